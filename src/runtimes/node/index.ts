import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Bundler } from '../../build/bundle.js';
import type { FunctionRuntime } from '../types.js';

/** The file an unpacked Node.js bundle is written to. */
export const NODE_BUNDLE_FILE = 'index.mjs';

/**
 * node20: the handler and its imports bundled by esbuild into one ES module, sent to the
 * container in the init message (src/runtime is the program inside the container).
 * @example const node = nodeRuntime(new Bundler()); await node.prepare(spec);
 */
export function nodeRuntime(bundler: Bundler): FunctionRuntime {
  return {
    name: 'node20',
    delivery: 'inline',
    prepare: async (spec) => void (await bundler.code(spec)),
    code: (spec) => bundler.code(spec),
    pack: async (spec) => Buffer.from(await bundler.code(spec)),
    unpack: (bytes, dir) => writeFile(join(dir, NODE_BUNDLE_FILE), bytes, { mode: 0o644 }),
  };
}
