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
