#!/usr/bin/env node
// The `faas` command. Runs the compiled CLI; `npm run build` produces it.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('faas: the platform is not built yet. Run `npm run build` first.');
  process.exit(1);
}
await import(main.href);
