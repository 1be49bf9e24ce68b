import { spawn } from 'node:child_process';

/**
 * A folder as a tar archive that depends only on its content: entries sorted by name, owner 0,
 * modification times 0, hard links stored as files. The same code gives the same bytes, and so
 * the same sha256 in the code store.
 * @example const bytes = await packDir('/cache/python/code/ab12…');
 */
export function packDir(dir: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tar = spawn(
      'tar',
      [
        '-C',
        dir,
        '--sort=name',
        '--owner=0',
        '--group=0',
        '--numeric-owner',
        '--mtime=@0',
        '--hard-dereference',
        '--format=gnu',
        '-c',
        '.',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const chunks: Buffer[] = [];
    let stderr = '';
    tar.stdout.on('data', (d: Buffer) => chunks.push(d));
    tar.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    tar.once('error', reject);
    tar.once('close', (code) =>
      code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`tar failed: ${stderr.trim()}`)),
    );
  });
}

/** Runs tar with `bytes` on its input; resolves with what it printed. */
function tarWith(args: string[], bytes: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    tar.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    tar.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    tar.once('error', reject);
    tar.once('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`tar failed: ${stderr.trim()}`)),
    );
    tar.stdin.on('error', () => undefined);
    tar.stdin.end(bytes);
  });
}

/**
 * Sets a tree's modes to what a function's code needs and no more: readable (and folders
 * searchable) by everyone, so the containers' user reads it whatever the host's umask;
 * writable by the owner only; executable where it was; no setuid, setgid or sticky bits.
 * @example await normalizeModes('/state/code/ab12…');
 */
export function normalizeModes(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('chmod', ['-R', 'u=rwX,go=rX', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`chmod failed: ${stderr.trim()}`)),
    );
  });
}

/**
 * Unpacks what {@link packDir} made into `dir` (which must exist), files owned by this process,
 * their modes normalized (see {@link normalizeModes}). An archive holding anything but files,
 * folders and links (a device, a FIFO) is refused before anything is written: stored code is
 * read by whoever can deploy, and this may run as root.
 * @example await unpackDir(bytes, '/state/code/ab12…');
 */
export async function unpackDir(bytes: Buffer, dir: string): Promise<void> {
  const listing = await tarWith(['-t', '-v', '-f', '-'], bytes);
  const odd = listing.split('\n').find((line) => line !== '' && !/^[-dlh]/.test(line));
  if (odd !== undefined)
    throw new Error(`stored code holds something other than files and folders: ${odd.slice(0, 200)}`);
  await tarWith(['-C', dir, '-x', '--no-same-owner', '-f', '-'], bytes);
  await normalizeModes(dir);
}

/**
 * Whether `bytes` begin with a tar header (POSIX or GNU magic at offset 257, and the header's
 * checksum right): how a stored Node.js function that ships files is told from a bare bundle.
 * @example isTar(await packDir(dir)) // true
 */
export function isTar(bytes: Buffer): boolean {
  if (bytes.length < 512) return false;
  const magic = bytes.subarray(257, 262).toString('latin1');
  if (magic !== 'ustar') return false;
  const stored = Number.parseInt(bytes.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (bytes[i] as number);
  return stored === sum;
}
