import { copyFile, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { BundleError, type Bundler } from '../../build/bundle.js';
import type { FunctionSpec } from '../../manifest/types.js';
import { isTar, normalizeModes, packDir, unpackDir } from '../tar.js';
import { bundleEntry } from './entry.js';
import type { FunctionRuntime } from '../types.js';

export { bundleEntry } from './entry.js';

/** The file an unpacked bare Node.js bundle is written to. */
export const NODE_BUNDLE_FILE = 'index.mjs';

/** Most bytes of files shipped beside a Node.js bundle (the bundle not counted). */
export const MAX_FILES_BESIDE_BYTES = 50 * 1024 * 1024;
/** Most files shipped beside a Node.js bundle. */
export const MAX_FILES_BESIDE = 2000;

/** Folders whose files never ship beside a bundle: the bundle holds what the handler imports. */
const SKIP_DIRS = new Set(['node_modules']);

/**
 * The files shipped beside a Node.js function's bundle, as Lambda's zip of the function's folder
 * would hold them (templates, data files, certificates its code reads at run time): every file of
 * the handler's folder and the folders under it, relative to the handler's folder and sorted.
 * Left out: the source files the bundle holds (`bundled`), node_modules, hidden files and folders
 * (`.env`, `.git`), symbolic links, and a file where the bundle goes. A handler at the manifest's
 * top level has no folder of its own (that one is the project's, with the manifest and the other
 * functions' folders): it ships nothing beside its bundle.
 * @example await filesBeside({ handler: 'report/index.handler', handlerFile: '/m/report/index.js' }, ['/m/report/index.js']) // ['logo.png', 'templates/a.html']
 */
export async function filesBeside(
  spec: Pick<FunctionSpec, 'name' | 'handler' | 'handlerFile'>,
  bundled: readonly string[] = [],
): Promise<string[]> {
  const held = new Set(bundled);
  const entry = bundleEntry(spec.handler);
  if (!entry.includes('/')) return [];
  const taken = posix.basename(entry);
  const out: string[] = [];
  const walk = async (sub: string): Promise<void> => {
    const entries = await readdir(join(dirname(spec.handlerFile), sub), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (rel === taken)
          throw new BundleError(spec.name, [
            {
              file: join(dirname(spec.handlerFile), rel),
              message: `the bundled handler is written at ${rel} beside the handler: rename this folder`,
            },
          ]);
        if (!SKIP_DIRS.has(e.name)) await walk(rel);
      } else if (e.isFile() && rel !== taken && !held.has(join(dirname(spec.handlerFile), rel)))
        out.push(rel);
    }
  };
  await walk('');
  return out;
}

/** @throws BundleError when the files beside the handler are too many or too large to ship. */
async function checkFilesBeside(spec: FunctionSpec, files: string[]): Promise<void> {
  const folder = dirname(spec.handlerFile);
  let bytes = 0;
  for (const f of files) bytes += (await stat(join(folder, f))).size;
  if (files.length <= MAX_FILES_BESIDE && bytes <= MAX_FILES_BESIDE_BYTES) return;
  throw new BundleError(spec.name, [
    {
      file: spec.handlerFile,
      message: `the files beside the handler in ${folder} (${files.length} files, ${Math.ceil(bytes / 1048576)} MB) ship with it, and at most ${MAX_FILES_BESIDE} files and ${MAX_FILES_BESIDE_BYTES / 1048576} MB may: move large data to a bucket, or the handler into a folder of its own`,
    },
  ]);
}

/**
 * The stored form of a function that ships files: a tar laid out as its /var/task, the bundle at
 * its entry among the files beside it (each at the same place relative to the bundle as to the
 * handler's source). @throws BundleError when the files are too many or too large.
 */
async function packWithFiles(spec: FunctionSpec, code: string, files: string[]): Promise<Buffer> {
  await checkFilesBeside(spec, files);
  const src = dirname(spec.handlerFile);
  const entry = bundleEntry(spec.handler);
  const prefix = posix.dirname(entry);
  const dir = await mkdtemp(join(tmpdir(), 'faas-node-pack-'));
  try {
    for (const f of files) {
      const to = join(dir, prefix, f);
      await mkdir(dirname(to), { recursive: true });
      await copyFile(join(src, f), to);
    }
    await mkdir(dirname(join(dir, entry)), { recursive: true });
    await writeFile(join(dir, entry), code);
    // Readable by the container's user whatever the host's umask, no special bits; the same
    // bytes from the same files, whatever their modes beyond executable or not.
    await normalizeModes(dir);
    return await packDir(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * node20: the handler and its imports bundled by esbuild into one ES module, written at the
 * handler's path in the container's /var/task (src/runtime is the program inside the container),
 * with the other files of the handler's folder beside it (see {@link filesBeside}). A function
 * that has none is stored as its bundle alone; one that has some, as a tar of its /var/task.
 * @example const node = nodeRuntime(new Bundler()); await node.prepare(spec);
 */
export function nodeRuntime(bundler: Bundler): FunctionRuntime {
  return {
    name: 'node20',
    delivery: 'inline',
    prepare: async (spec) => {
      await checkFilesBeside(spec, await filesBeside(spec, await bundler.inputs(spec)));
    },
    code: (spec) => bundler.code(spec),
    pack: async (spec) => {
      const code = await bundler.code(spec);
      const files = await filesBeside(spec, await bundler.inputs(spec));
      return files.length === 0 ? Buffer.from(code) : packWithFiles(spec, code, files);
    },
    unpack: (bytes, dir) =>
      isTar(bytes) ? unpackDir(bytes, dir) : writeFile(join(dir, NODE_BUNDLE_FILE), bytes, { mode: 0o644 }),
  };
}
