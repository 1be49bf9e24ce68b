import type { FunctionSpec, RuntimeName } from '../manifest/types.js';
import type { CodeDelivery } from './delivery.js';

/**
 * One language on the host side: how its functions' code is built, checked, stored and handed
 * to a container. The container side is the runtime image (scripts/build-*-image.sh) with its
 * program speaking src/runtime/protocol.ts; the pool starts containers of the runtime's image.
 */
export interface FunctionRuntime {
  readonly name: RuntimeName;
  /** How the code reaches a container (see CODE_DELIVERY). */
  readonly delivery: CodeDelivery;
  /**
   * Builds the function's code, so that what cannot run is refused before anything starts.
   * @throws BundleError naming the file and line (or requirement) to fix
   */
  prepare(spec: FunctionSpec): Promise<void>;
  /** The function's code (with its dependencies) as bytes: the same sources give the same bytes. */
  pack(spec: FunctionSpec): Promise<Buffer>;
  /** Writes what {@link FunctionRuntime.pack} made into an empty folder, in the form the runtime loads. */
  unpack(bytes: Buffer, dir: string): Promise<void>;
  /** `inline` runtimes: the code sent in the init message. */
  code?(spec: FunctionSpec): Promise<string>;
  /** `dir` runtimes: the host folder of the built code and dependencies. */
  codeDir?(spec: FunctionSpec): Promise<string>;
}
