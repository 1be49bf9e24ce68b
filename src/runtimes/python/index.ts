import { packDir, unpackDir } from '../tar.js';
import type { FunctionRuntime } from '../types.js';
import { PythonBuilder, type PythonBuildOptions } from './build.js';

/**
 * python3.11: the handler's folder with its requirements.txt installed (src/runtimes/python/
 * build.ts), handed to the container as a folder at /var/task; bootstrap.py beside this file is
 * the program inside the container. Packed as a deterministic tar for the code store.
 * @example const python = pythonRuntime({ cacheDir: '/root/.cache/faas' });
 */
export function pythonRuntime(options: PythonBuildOptions): FunctionRuntime {
  const builder = new PythonBuilder(options);
  return {
    name: 'python3.11',
    delivery: 'dir',
    prepare: async (spec) => void (await builder.dir(spec)),
    codeDir: (spec) => builder.dir(spec),
    pack: async (spec) => packDir(await builder.dir(spec)),
    unpack: (bytes, dir) => unpackDir(bytes, dir),
  };
}
