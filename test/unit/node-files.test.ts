/**
 * The files a Node.js function ships beside its bundle: which ones, how they are stored (a bare
 * bundle when there are none, a tar laid out as /var/task when there are), and the limits.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bundler, BundleError } from '../../src/build/bundle.js';
import type { FunctionSpec } from '../../src/manifest/types.js';
import {
  bundleEntry,
  filesBeside,
  MAX_FILES_BESIDE,
  NODE_BUNDLE_FILE,
  nodeRuntime,
} from '../../src/runtimes/node/index.js';
import { isTar, packDir, unpackDir } from '../../src/runtimes/tar.js';
import { linkTree } from '../../src/util/link-tree.js';

let root: string;

async function put(rel: string, content = rel): Promise<void> {
  await mkdir(join(root, rel, '..'), { recursive: true });
  await writeFile(join(root, rel), content);
}

function spec(handler: string, file: string): FunctionSpec {
  return { name: 'fn', handler, handlerFile: join(root, file), exportName: 'handler' } as FunctionSpec;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'faas-node-files-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('bundleEntry', () => {
  it.each([
    ['csv-summary/index.handler', 'csv-summary/index.mjs'],
    ['a/b/app.main', 'a/b/app.mjs'],
    ['index.handler', 'index.mjs'],
    ['../up.handler', 'index.mjs'],
  ])('%s → %s', (handler, entry) => expect(bundleEntry(handler)).toBe(entry));
});

describe('filesBeside', () => {
  it('lists the folder without bundled sources, node_modules, hidden entries, links or the entry', async () => {
    for (const f of ['fn/index.js', 'fn/lib/util.js', 'fn/lib/plugin.js', 'fn/data/a.json', 'fn/page.html'])
      await put(f);
    for (const f of [
      'fn/.env',
      'fn/.git/config',
      'fn/node_modules/x/index.js',
      'fn/index.mjs',
      'other/x.txt',
    ])
      await put(f);
    await symlink('/etc/hostname', join(root, 'fn', 'host'));
    const s = spec('fn/index.handler', 'fn/index.js');
    const files = await filesBeside(s, [join(root, 'fn/index.js'), join(root, 'fn/lib/util.js')]);
    expect(files).toEqual(['data/a.json', 'lib/plugin.js', 'page.html']);
  });

  it("ships nothing beside a handler at the top level: that folder is the project's", async () => {
    for (const f of ['index.js', 'manifest.yaml', 'template.txt', 'fn/other.txt']) await put(f);
    expect(await filesBeside(spec('index.handler', 'index.js'), [join(root, 'index.js')])).toEqual([]);
  });

  it('refuses a folder where the bundle goes, naming it', async () => {
    await put('fn/index.js');
    await put('fn/index.mjs/a.txt');
    const err = await filesBeside(spec('fn/index.handler', 'fn/index.js')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect((err as BundleError).problems).toEqual([
      {
        file: join(root, 'fn', 'index.mjs'),
        message: 'the bundled handler is written at index.mjs beside the handler: rename this folder',
      },
    ]);
  });

  it('names the handler file itself when nothing says it is bundled', async () => {
    await put('fn/index.js');
    expect(await filesBeside(spec('fn/index.handler', 'fn/index.js'))).toEqual(['index.js']);
  });
});

describe('isTar', () => {
  it('tells a packed folder from a bundle and from short or damaged bytes', async () => {
    await put('d/a.txt', 'a');
    const tar = await packDir(join(root, 'd'));
    expect(isTar(tar)).toBe(true);
    expect(isTar(Buffer.from('export const handler = async () => 1;\n'.repeat(40)))).toBe(false);
    expect(isTar(tar.subarray(0, 511))).toBe(false);
    const damaged = Buffer.from(tar);
    damaged[0] = (damaged[0] as number) ^ 1;
    expect(isTar(damaged)).toBe(false);
  });
});

describe('nodeRuntime pack and unpack', () => {
  const handler =
    "const fs = require('node:fs'); exports.handler = async () => fs.readFileSync(__dirname + '/t.txt', 'utf8');\n";

  it('stores a function with nothing beside it as its bundle alone', async () => {
    await put('fn/index.js', handler);
    const node = nodeRuntime(new Bundler(root));
    const s = spec('fn/index.handler', 'fn/index.js');
    const bytes = await node.pack(s);
    expect(isTar(bytes)).toBe(false);
    expect(bytes.toString('utf8')).toBe(await node.code?.(s));
    const out = join(root, 'out');
    await mkdir(out);
    await node.unpack(bytes, out);
    expect(await readFile(join(out, NODE_BUNDLE_FILE), 'utf8')).toBe(bytes.toString('utf8'));
  });

  it('stores one with files as a tar of its /var/task: the same bytes each time, readable by all', async () => {
    await put('fn/index.js', handler);
    await put('fn/t.txt', 'beside');
    await put('fn/sub/deep.bin', 'deep');
    const node = nodeRuntime(new Bundler(root));
    const s = spec('fn/index.handler', 'fn/index.js');
    const bytes = await node.pack(s);
    expect(isTar(bytes)).toBe(true);
    expect((await node.pack(s)).equals(bytes)).toBe(true);
    const out = join(root, 'out');
    await mkdir(out);
    await node.unpack(bytes, out);
    expect(await readFile(join(out, 'fn/index.mjs'), 'utf8')).toBe(await node.code?.(s));
    expect(await readFile(join(out, 'fn/t.txt'), 'utf8')).toBe('beside');
    expect(await readFile(join(out, 'fn/sub/deep.bin'), 'utf8')).toBe('deep');
    await expect(stat(join(out, 'fn/index.js'))).rejects.toThrow(/ENOENT/);
    for (const f of ['fn', 'fn/sub', 'fn/t.txt', 'fn/index.mjs'])
      expect((await stat(join(out, f))).mode & 0o444, f).toBe(0o444);
    expect((await stat(join(out, 'fn/sub'))).mode & 0o111).toBe(0o111);
  });

  it('refuses too many files beside the handler, naming the folder and the limit', async () => {
    await put('fn/index.js', handler);
    await mkdir(join(root, 'fn', 'many'));
    await Promise.all(
      Array.from({ length: MAX_FILES_BESIDE + 1 }, (_, i) =>
        writeFile(join(root, 'fn', 'many', `${i}.txt`), ''),
      ),
    );
    const node = nodeRuntime(new Bundler(root));
    const s = spec('fn/index.handler', 'fn/index.js');
    const err = await node.prepare(s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleError);
    expect((err as Error).message).toContain(`${join(root, 'fn')} (${MAX_FILES_BESIDE + 1} files`);
    expect((err as Error).message).toContain(`at most ${MAX_FILES_BESIDE} files`);
    await expect(node.pack(s)).rejects.toBeInstanceOf(BundleError);
  });
});

describe('modes, whatever the umask and the sources', () => {
  let umask: number;
  beforeEach(() => {
    umask = process.umask(0o077);
  });
  afterEach(() => {
    process.umask(umask);
  });

  it('packs and unpacks readable by all, writable by the owner, without setuid, the same bytes', async () => {
    const handler = 'exports.handler = async () => 1;\n';
    await put('fn/index.js', handler);
    await put('fn/tool.sh', '#!/bin/sh\n');
    await put('fn/data/a.txt', 'a');
    await chmod(join(root, 'fn/tool.sh'), 0o4755);
    await chmod(join(root, 'fn/data/a.txt'), 0o600);
    const node = nodeRuntime(new Bundler(root));
    const s = spec('fn/index.handler', 'fn/index.js');
    const bytes = await node.pack(s);
    await chmod(join(root, 'fn/data/a.txt'), 0o664);
    expect((await node.pack(s)).equals(bytes)).toBe(true);
    const out = join(root, 'out');
    await mkdir(out);
    await node.unpack(bytes, out);
    const mode = async (f: string) => (await stat(join(out, f))).mode & 0o7777;
    expect(await mode('fn')).toBe(0o755);
    expect(await mode('fn/data')).toBe(0o755);
    expect(await mode('fn/data/a.txt')).toBe(0o644);
    expect(await mode('fn/index.mjs')).toBe(0o644);
    expect(await mode('fn/tool.sh')).toBe(0o755);
  });

  it('links a tree into folders open to all', async () => {
    await put('src/a/b/c.txt', 'c');
    await mkdir(join(root, 'dest'));
    await linkTree(join(root, 'src'), join(root, 'dest'));
    for (const d of ['dest/a', 'dest/a/b']) expect((await stat(join(root, d))).mode & 0o777, d).toBe(0o755);
    expect(await readFile(join(root, 'dest/a/b/c.txt'), 'utf8')).toBe('c');
  });
});

describe('unpackDir', () => {
  it('refuses an archive that holds anything but files, folders and links, writing nothing', async () => {
    await put('odd/a.txt', 'a');
    execFileSync('mkfifo', [join(root, 'odd', 'pipe')]);
    const bytes = await packDir(join(root, 'odd'));
    const out = join(root, 'out');
    await mkdir(out);
    await expect(unpackDir(bytes, out)).rejects.toThrow(/something other than files and folders: p/);
    await expect(stat(join(out, 'a.txt'))).rejects.toThrow(/ENOENT/);
  });
});
