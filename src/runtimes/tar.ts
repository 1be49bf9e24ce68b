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

/**
 * Unpacks what {@link packDir} made into `dir` (which must exist), files owned by this process.
 * @example await unpackDir(bytes, '/state/code/ab12…');
 */
export function unpackDir(bytes: Buffer, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', ['-C', dir, '-x', '--no-same-owner', '-f', '-'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    tar.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    tar.once('error', reject);
    tar.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar failed: ${stderr.trim()}`))));
    tar.stdin.on('error', () => undefined);
    tar.stdin.end(bytes);
  });
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
