import { Bundler } from '../build/bundle.js';
import type { FunctionSpec, RuntimeName } from '../manifest/types.js';
import { nodeRuntime } from './node/index.js';
import { pythonRuntime } from './python/index.js';
import type { FunctionRuntime } from './types.js';

export type { FunctionRuntime } from './types.js';

export interface RuntimesOptions {
  /** Where built code and installed dependencies are kept (FAAS_CACHE_DIR). */
  cacheDir: string;
  /** The host's Python 3.11 (FAAS_PYTHON). @defaultValue 'python3.11' */
  python?: string;
  /** The Node.js bundler (shared, so its cache is). @defaultValue a new one */
  bundler?: Bundler;
}

/**
 * Every runtime, by the manifest's `runtime` name: the one place that knows them all. Adding a
 * language is a folder beside node/ and python/ with its FunctionRuntime, and a line here.
 * @example const runtimes = new Runtimes({ cacheDir }); await runtimes.prepare(spec);
 */
export class Runtimes {
  readonly bundler: Bundler;
  private readonly byName: Record<RuntimeName, FunctionRuntime>;

  constructor(options: RuntimesOptions) {
    this.bundler = options.bundler ?? new Bundler();
    this.byName = {
      node20: nodeRuntime(this.bundler),
      'python3.11': pythonRuntime({ cacheDir: options.cacheDir, python: options.python }),
    };
  }

  /** The runtime a function runs in. */
  of(spec: Pick<FunctionSpec, 'runtime'>): FunctionRuntime {
    return this.byName[spec.runtime];
  }

  /** Builds a function's code. @throws BundleError */
  prepare(spec: FunctionSpec): Promise<void> {
    return this.of(spec).prepare(spec);
  }

  /** The bundled module of an `inline` runtime's function. */
  code(spec: FunctionSpec): Promise<string> {
    const runtime = this.of(spec);
    if (!runtime.code) throw new Error(`runtime ${spec.runtime} takes its code as a folder, not inline`);
    return runtime.code(spec);
  }

  /** The host folder of a `dir` runtime's function. */
  codeDir(spec: FunctionSpec): Promise<string> {
    const runtime = this.of(spec);
    if (!runtime.codeDir) throw new Error(`runtime ${spec.runtime} takes its code inline, not as a folder`);
    return runtime.codeDir(spec);
  }

  /** The function's code as bytes for the code store (sha256 of the same sources is the same). */
  pack(spec: FunctionSpec): Promise<Buffer> {
    return this.of(spec).pack(spec);
  }

  /** Unpacks stored bytes of a function of `runtime` into an empty folder. */
  unpack(runtime: RuntimeName, bytes: Buffer, dir: string): Promise<void> {
    return this.byName[runtime].unpack(bytes, dir);
  }
}
