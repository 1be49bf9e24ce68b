import { chmod, copyFile, link, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Fills `dest` (which must exist) with the tree under `src`: files as hard links (`cp -al`),
 * copied instead where linking fails (another file system), folders made (mode 0755, whatever
 * the umask), symlinks kept. A link
 * costs no bytes and is instant, so a large tree (a function's dependencies) appears at once.
 * @example await linkTree('/cache/python/code/ab12…', '/state/task/faas-i1-generic-3');
 */
export async function linkTree(src: string, dest: string): Promise<void> {
  for (const e of await readdir(src, { withFileTypes: true })) {
    const from = join(src, e.name);
    const to = join(dest, e.name);
    if (e.isDirectory()) {
      await mkdir(to, { recursive: true, mode: 0o755 });
      await chmod(to, 0o755);
      await linkTree(from, to);
    } else if (e.isSymbolicLink()) {
      await symlink(await readlink(from), to);
    } else if (e.isFile()) {
      await link(from, to).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EXDEV' && err.code !== 'EPERM' && err.code !== 'EMLINK') throw err;
        await copyFile(from, to);
      });
    }
  }
}
