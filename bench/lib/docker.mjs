/** The Docker CLI calls the benchmarks make: the runtime image, a naive `docker run`, memory, leftovers. */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { now } from './clock.mjs';

const exec = promisify(execFile);

/**
 * Runs `docker …` and returns its stdout.
 * @param {string[]} args
 */
export async function docker(args) {
  const { stdout } = await exec('docker', args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** The newest runtime image tag (label faas.runtime=1) that is not `:latest`. */
export async function runtimeImage() {
  const out = await docker([
    'images',
    '--filter',
    'label=faas.runtime=1',
    '--format',
    '{{.CreatedAt}}\t{{.Repository}}:{{.Tag}}',
  ]);
  const tags = out
    .split('\n')
    // The Node.js image (faas-runtime:<hash>), not another runtime's (faas-runtime-python:…).
    .filter((l) => l && /\tfaas-runtime:/.test(l) && !l.endsWith(':latest') && !l.endsWith(':<none>'))
    .sort()
    .reverse();
  const tag = tags[0]?.split('\t')[1];
  if (!tag) throw new Error('no runtime image (label faas.runtime=1): run `npm run services:up`');
  return tag;
}

/**
 * Wall time of `docker run --rm --network none <image> /usr/bin/node -e <code>`: the naive way to
 * run a function once, without a platform.
 * @param {string} image
 * @param {string} code
 * @param {string} label marks the container so a leftover can be found and removed
 */
export function timeDockerRun(image, code, label) {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const child = spawn(
      'docker',
      ['run', '--rm', '--network', 'none', '--label', label, image, '/usr/bin/node', '-e', code],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(now() - t0) : reject(new Error(`docker run exited ${code}: ${out.trim()}`)),
    );
  });
}

/**
 * Memory in MiB of each container, as `docker stats --no-stream` reports it (page cache excluded).
 * @param {string[]} ids
 * @returns {Promise<number[]>}
 */
export async function containerMemMb(ids) {
  if (ids.length === 0) return [];
  const out = await docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', ...ids]);
  return out.split('\n').map((l) => toMiB(l.split('/')[0].trim()));
}

/** @param {string} s like `7.668MiB`, `812KiB`, `1.2GiB` */
function toMiB(s) {
  const m = /^([\d.]+)\s*([KMG]i?B|B)$/.exec(s);
  if (!m) return NaN;
  const f = { B: 1 / 1048576, KiB: 1 / 1024, KB: 1 / 1024, MiB: 1, MB: 1, GiB: 1024, GB: 1024 }[m[2]] ?? NaN;
  return Number(m[1]) * f;
}

/**
 * Ids of containers (running or not) carrying a label.
 * @param {string} label `key=value`
 */
export async function containersWith(label) {
  const out = await docker(['ps', '-a', '-q', '--filter', `label=${label}`]);
  return out ? out.split('\n') : [];
}

/**
 * Removes every container carrying a label; returns how many there were.
 * @param {string} label
 */
export async function removeContainersWith(label) {
  const ids = await containersWith(label);
  if (!ids.length) return 0;
  try {
    await docker(['rm', '-f', '-v', ...ids]);
  } catch (err) {
    // The platform may be removing some of them at the same time: those are gone (or going)
    // either way; any other refusal still fails the run.
    const lines = String(/** @type {{ stderr?: string }} */ (err).stderr ?? '')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const gone = (/** @type {string} */ l) => /No such container|already in progress/.test(l);
    if (!lines.length || !lines.every(gone)) throw err;
  }
  return ids.length;
}
