import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/user-error.js';

/** The bundled in-container runtime, built by `npm run build` next to this module's output. */
export const RUNTIME_BUNDLE = fileURLToPath(new URL('../../dist/runtime/runtime.mjs', import.meta.url));

/** Label every runtime image carries: the sha256 of the runtime bundle baked into it. */
export const RUNTIME_BUNDLE_LABEL = 'faas.runtime.bundle';

/** The Python runtime program, copied beside the build by `npm run build`. */
export const PYTHON_BOOTSTRAP = fileURLToPath(
  new URL('../../dist/runtimes/python/bootstrap.py', import.meta.url),
);

/** Label of the python3.11 image (scripts/build-python-image.sh): the sha256 of its bootstrap.py. */
export const PYTHON_BOOTSTRAP_LABEL = 'faas.runtime.python';

/**
 * The sha256 of the runtime bundle this platform build expects inside its containers; the
 * runtime image built by `scripts/build-runtime-image.sh` carries it as a label.
 */
export async function runtimeBundleSha(bundle = RUNTIME_BUNDLE): Promise<string> {
  try {
    return createHash('sha256')
      .update(await readFile(bundle))
      .digest('hex');
  } catch {
    throw new UserError(
      `runtime bundle ${bundle} is missing`,
      'run `npm run build` (or `npm run services:up`)',
    );
  }
}
