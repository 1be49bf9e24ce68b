// Bundles the web console (src/ui) into dist/ui: index.html and content-hashed assets, served by
// the API at /ui. Everything is local: the console loads nothing from elsewhere.
import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';

const out = 'dist/ui';
await rm(out, { recursive: true, force: true });
const result = await build({
  entryPoints: ['src/ui/main.tsx'],
  outdir: `${out}/assets`,
  entryNames: 'app-[hash]',
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
const files = Object.keys(result.metafile.outputs).map((f) => basename(f));
const js = files.find((f) => f.endsWith('.js'));
const css = files.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`the console bundle lacks a script or stylesheet: ${files.join(', ')}`);
const html = (await readFile('src/ui/index.html', 'utf8')).replace('%JS%', js).replace('%CSS%', css);
await mkdir(out, { recursive: true });
await writeFile(`${out}/index.html`, html);
