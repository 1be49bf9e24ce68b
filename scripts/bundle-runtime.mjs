// Bundles the in-container runtime (src/runtime) into one file for the runtime image.
import { build } from 'esbuild';

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
