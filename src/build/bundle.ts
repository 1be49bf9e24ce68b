import { build } from 'esbuild';
import { stat } from 'node:fs/promises';
import type { FunctionSpec } from '../manifest/types.js';
import provided from './provided-packages.json' with { type: 'json' };

/** Largest bundled function the platform loads (it travels over the runtime socket). */
export const MAX_BUNDLE_BYTES = 6 * 1024 * 1024;

/**
 * Packages the runtime image provides, as Lambda's Node.js runtime provides the AWS SDK: left
 * out of bundles (with their subpaths), so handlers import them without installing anything.
 */
export const PROVIDED_PACKAGES: readonly string[] = provided;

/** Raised when a function's code cannot be bundled; the message says what to fix. */
export class BundleError extends Error {
  override name = 'BundleError';
}

/**
 * Bundles a function's handler (JavaScript or TypeScript) with everything it imports into one
 * ES module, so the container needs no node_modules of the function's and sees no other
 * function's files. Only {@link PROVIDED_PACKAGES} stay imports, resolved in the runtime image.
 * Results are cached per handler file and modification time.
 */
export class Bundler {
  private readonly cache = new Map<string, { mtimeMs: number; code: Promise<string> }>();

  async code(spec: FunctionSpec): Promise<string> {
    const { mtimeMs } = await stat(spec.handlerFile);
    const hit = this.cache.get(spec.handlerFile);
    if (hit && hit.mtimeMs === mtimeMs) return hit.code;
    const code = this.bundle(spec);
    this.cache.set(spec.handlerFile, { mtimeMs, code });
    code.catch(() => this.cache.delete(spec.handlerFile));
    return code;
  }

  private async bundle(spec: FunctionSpec): Promise<string> {
    try {
      const out = await build({
        entryPoints: [spec.handlerFile],
        bundle: true,
        write: false,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        sourcemap: 'inline',
        logLevel: 'silent',
        external: PROVIDED_PACKAGES.flatMap((p) => [p, `${p}/*`]),
        // CommonJS dependencies call require(); give the ES module bundle one.
        banner: {
          js: "import { createRequire as __faasCreateRequire } from 'node:module'; const require = __faasCreateRequire(import.meta.url);",
        },
      });
      const code = out.outputFiles[0]?.text ?? '';
      if (Buffer.byteLength(code) > MAX_BUNDLE_BYTES) {
        throw new BundleError(
          `function ${spec.name}: bundled code is over ${MAX_BUNDLE_BYTES / 1048576} MiB`,
        );
      }
      return code;
    } catch (err) {
      if (err instanceof BundleError) throw err;
      throw new BundleError(
        `function ${spec.name}: cannot bundle ${spec.handlerFile}: ${(err as Error).message}`,
      );
    }
  }
}
