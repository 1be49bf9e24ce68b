// Bundles the in-container runtime (src/runtime) into one file for the runtime image, and copies
// the Python runtime's files (src/runtimes/python/*.py, provided.txt) beside the compiled host code.
import { build } from 'esbuild';
import { cp, mkdir, readdir } from 'node:fs/promises';

await build({
  entryPoints: ['src/runtime/main.ts'],
  outfile: 'dist/runtime/runtime.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
});

await mkdir('dist/runtimes/python', { recursive: true });
for (const f of await readdir('src/runtimes/python')) {
  if (f.endsWith('.py') || f.endsWith('.txt'))
    await cp(`src/runtimes/python/${f}`, `dist/runtimes/python/${f}`);
}
