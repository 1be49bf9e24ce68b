import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { HANDLER_PATTERN } from './rules.js';
import type { RuntimeName } from './types.js';

/** Extensions tried for a handler's file, in this order. */
export const HANDLER_EXTENSIONS = ['.js', '.mjs', '.ts'] as const;

/** Extensions tried for each runtime's handler files. */
const EXTENSIONS: Record<RuntimeName, readonly string[]> = {
  node20: HANDLER_EXTENSIONS,
  'python3.11': ['.py'],
};

export type ResolvedHandler = { file: string; exportName: string } | { problem: string };

/**
 * Finds a handler's source file under `dir` (a real path), refusing one that resolves outside it
 * through a symlink. Assumes the handler already passed `handlerProblem`.
 * A Python handler lives in a folder of its own (`csv-stats/app.handler`): that folder, with its
 * dependencies, is what the container sees at /var/task.
 * @example resolveHandler('/srv/functions', 'csv-summary/index.handler')
 * // { file: '/srv/functions/csv-summary/index.js', exportName: 'handler' }
 */
export function resolveHandler(
  dir: string,
  handler: string,
  runtime: RuntimeName = 'node20',
): ResolvedHandler {
  const m = HANDLER_PATTERN.exec(handler);
  if (!m) return { problem: 'must be <file path without extension>.<export name>' };
  const [, base, exportName] = m as unknown as [string, string, string];
  if (runtime === 'python3.11' && !base.includes('/')) {
    return {
      problem: `a Python handler lives in a folder of its own: move ${base}.py into one and write <folder>/${base}.${exportName}`,
    };
  }
  const extensions = EXTENSIONS[runtime];
  for (const ext of extensions) {
    const candidate = join(dir, base + ext);
    if (!statSync(candidate, { throwIfNoEntry: false })?.isFile()) continue;
    const file = realpathSync(candidate);
    if (!isInside(dir, file)) {
      return { problem: `${base}${ext} resolves to ${file}, outside the manifest's folder ${dir}` };
    }
    return { file, exportName };
  }
  const tried = extensions.map((ext) => base + ext).join(', ');
  return { problem: `no handler file: looked for ${tried} in ${dir}` };
}

/** The real path of a folder, or its absolute path when it does not exist. */
export function realDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}

function isInside(dir: string, file: string): boolean {
  const rel = relative(dir, file);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}
