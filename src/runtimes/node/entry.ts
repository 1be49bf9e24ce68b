import { posix } from 'node:path';

/**
 * Where a Node.js bundle goes in /var/task: the handler's module path with `.mjs`
 * (`csv-summary/index.handler` → `csv-summary/index.mjs`), or `index.mjs` for a path that would
 * leave the folder (the manifest refuses those).
 * @example bundleEntry('csv-summary/index.handler') // 'csv-summary/index.mjs'
 */
export function bundleEntry(handler: string): string {
  const dot = handler.lastIndexOf('.');
  const module = posix.normalize(dot > 0 ? handler.slice(0, dot) : handler);
  if (module === '.' || module.startsWith('..') || posix.isAbsolute(module)) return 'index.mjs';
  return `${module}.mjs`;
}
