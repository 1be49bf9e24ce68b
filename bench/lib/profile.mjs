/**
 * Reads a V8 CPU profile (`node --cpu-prof`) into self time by package and by function, as shares
 * of the time the process was busy: where the platform process spends its CPU.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * What a call frame belongs to: an npm package, a platform folder (dist/<folder>), a Node.js
 * internal module, or a V8 pseudo-frame such as `(garbage collector)`.
 * @param {{ url: string, functionName: string }} f
 */
function owner(f) {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f.url);
  if (pkg) return pkg[1];
  const dist = /\/dist\/([^/]+)/.exec(f.url);
  if (dist) return `platform:${dist[1]}`;
  if (f.url.startsWith('node:internal/deps/')) return `node:${f.url.split('/')[2]}`;
  if (f.url.startsWith('node:internal/')) return `node:${f.url.split('/')[1]}`;
  if (f.url.startsWith('node:')) return f.url;
  return f.url || f.functionName || '(native)';
}

/**
 * @param {string} file a .cpuprofile
 * @param {number} [top]
 */
export async function summarizeProfile(file, top = 15) {
  /** @type {{ nodes: Array<{ id: number, callFrame: { url: string, functionName: string, lineNumber: number } }>, samples: number[], timeDeltas: number[] }} */
  const p = JSON.parse(await readFile(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  /** @type {Map<string, number>} */
  const byOwner = new Map();
  /** @type {Map<string, number>} */
  const byFunction = new Map();
  let total = 0;
  let idle = 0;
  p.samples.forEach((id, i) => {
    const us = p.timeDeltas[i] ?? 0;
    const f = byId.get(id);
    if (!f) return;
    // Shares are of the time the process was busy: waits between scenarios are not work.
    if (f.functionName === '(idle)') return void (idle += us);
    total += us;
    const o = owner(f);
    byOwner.set(o, (byOwner.get(o) ?? 0) + us);
    const fn = `${f.functionName || '(anonymous)'} (${o}${f.lineNumber >= 0 ? `:${f.lineNumber + 1}` : ''})`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  });
  const share = (/** @type {Map<string, number>} */ m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, percent: Number(((100 * us) / total).toFixed(1)) }));
  return {
    file,
    busy_s: Number((total / 1e6).toFixed(1)),
    idle_s: Number((idle / 1e6).toFixed(1)),
    by_owner: share(byOwner),
    by_function: share(byFunction),
  };
}

/**
 * The newest .cpuprofile in a folder.
 * @param {string} dir
 */
export async function newestProfile(dir) {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  return files.length ? join(dir, files[files.length - 1]) : undefined;
}
