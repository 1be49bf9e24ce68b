import { build, type BuildFailure, type Message } from 'esbuild';
import { stat } from 'node:fs/promises';
import { relative, resolve } from 'node:path';
import type { FunctionSpec } from '../manifest/types.js';
import { UserError } from '../util/user-error.js';
import provided from './provided-packages.json' with { type: 'json' };

/** Largest bundled function the platform loads (it travels over the runtime socket). */
export const MAX_BUNDLE_BYTES = 6 * 1024 * 1024;

/**
 * Packages the runtime image provides, as Lambda's Node.js runtime provides the AWS SDK: left
 * out of bundles (with their subpaths), so handlers import them without installing anything.
 */
export const PROVIDED_PACKAGES: readonly string[] = provided;

/** One thing that keeps a function's code from building, at its place in the source. */
export interface CodeProblem {
  /** Absolute path of the source file, when known. */
  file?: string;
  /** 1-based line and column, when known. */
  line?: number;
  column?: number;
  /** What is wrong and what fixes it. */
  message: string;
}

/**
 * `file:line:column: message`, the file relative to `dir`, as editors and terminals link it.
 * @example formatCodeProblem({ file: '/srv/fn/a/index.js', line: 1, column: 17, message: 'x' }, '/srv/fn') // 'a/index.js:1:17: x'
 */
export function formatCodeProblem(p: CodeProblem, dir = process.cwd()): string {
  if (!p.file) return p.message;
  const at = p.line === undefined ? '' : `:${p.line}:${p.column ?? 1}`;
  return `${relative(dir, p.file)}${at}: ${p.message}`;
}

/** Raised when a function's code cannot be bundled; each problem says where and what to fix. */
export class BundleError extends UserError {
  override name = 'BundleError';

  constructor(
    readonly functionName: string,
    readonly problems: CodeProblem[],
  ) {
    super(`function ${functionName}: ${problems.map((p) => formatCodeProblem(p)).join('; ')}`);
  }
}

interface Built {
  code: string;
  /** The names the bundled module exports (a CommonJS handler's are all under `default`). */
  exports: string[];
  /** Absolute paths of the source files the bundle holds. */
  inputs: string[];
}

/**
 * Bundles a function's handler (JavaScript or TypeScript) with everything it imports into one
 * ES module, so the container needs no node_modules of the function's and sees no other
 * function's files, and checks that it exports the handler. Only {@link PROVIDED_PACKAGES} stay
 * imports, resolved in the runtime image. Bundles are cached per handler file and modification time.
 */
export class Bundler {
  private readonly cache = new Map<string, { mtimeMs: number; built: Promise<Built> }>();

  /**
   * @param root The folder source paths are written relative to (in the bundle's source map),
   * normally the manifest's: the same code deployed from anywhere is the same bundle, byte for
   * byte, so its hash (and version) does not change.
   */
  constructor(private readonly root = process.cwd()) {}

  /** The bundled code of a function. @throws BundleError naming the file and line to fix. */
  async code(spec: FunctionSpec): Promise<string> {
    return (await this.built(spec)).code;
  }

  /** The source files (absolute paths) the function's bundle holds. @throws BundleError */
  async inputs(spec: FunctionSpec): Promise<string[]> {
    return (await this.built(spec)).inputs;
  }

  private async built(spec: FunctionSpec): Promise<Built> {
    const { mtimeMs } = await stat(spec.handlerFile);
    let hit = this.cache.get(spec.handlerFile);
    if (!hit || hit.mtimeMs !== mtimeMs) {
      const built = this.bundle(spec);
      hit = { mtimeMs, built };
      this.cache.set(spec.handlerFile, hit);
      built.catch(() => this.cache.delete(spec.handlerFile));
    }
    const built = await hit.built;
    checkExport(spec, built);
    return built;
  }

  private async bundle(spec: FunctionSpec): Promise<Built> {
    let out;
    try {
      out = await build({
        entryPoints: [spec.handlerFile],
        absWorkingDir: this.root,
        bundle: true,
        write: false,
        metafile: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        sourcemap: 'inline',
        logLevel: 'silent',
        external: PROVIDED_PACKAGES.flatMap((p) => [p, `${p}/*`]),
        // CommonJS code calls require() and reads __dirname and __filename; give the ES module
        // bundle all three. The bundle sits at the handler's path in /var/task, so they name the
        // handler's folder and file as on Lambda. A module that declares its own keeps it.
        banner: {
          js: [
            "import { createRequire as __faasCreateRequire } from 'node:module';",
            "import { fileURLToPath as __faasFileURLToPath } from 'node:url';",
            "import { dirname as __faasDirnameOf } from 'node:path';",
            'const require = __faasCreateRequire(import.meta.url);',
            'const __faasFilename = __faasFileURLToPath(import.meta.url);',
            'const __faasDirname = __faasDirnameOf(__faasFilename);',
          ].join(' '),
        },
        define: { __dirname: '__faasDirname', __filename: '__faasFilename' },
      });
    } catch (err) {
      const errors = (err as Partial<BuildFailure>).errors;
      if (!Array.isArray(errors) || errors.length === 0) throw err;
      throw new BundleError(
        spec.name,
        errors.map((m) => codeProblem(m, this.root)),
      );
    }
    const code = out.outputFiles[0]?.text ?? '';
    if (Buffer.byteLength(code) > MAX_BUNDLE_BYTES) {
      throw new BundleError(spec.name, [
        {
          file: spec.handlerFile,
          message: `bundled with its imports it is over ${MAX_BUNDLE_BYTES / 1048576} MiB: import less`,
        },
      ]);
    }
    const output = Object.values(out.metafile.outputs).find((o) => o.entryPoint !== undefined);
    const inputs = Object.keys(out.metafile.inputs).map((f) => resolve(this.root, f));
    return { code, exports: output?.exports ?? [], inputs };
  }
}

/**
 * Refuses a module that certainly lacks the handler. The runtime also takes the handler from a
 * default export (`module.exports = { handler }` in CommonJS), whose members esbuild cannot list:
 * a module with a default export passes.
 */
function checkExport(spec: FunctionSpec, built: Built): void {
  if (built.exports.includes(spec.exportName) || built.exports.includes('default')) return;
  const has = built.exports.length > 0 ? `it exports ${built.exports.join(', ')}` : 'it exports nothing';
  throw new BundleError(spec.name, [
    {
      file: spec.handlerFile,
      message: `no export named "${spec.exportName}" (${has}): export it, like \`export async function ${spec.exportName}(event, context)\`, or fix the name after the dot in the manifest's handler`,
    },
  ]);
}

/** An esbuild error as a problem in the user's file, with a fix for the common ones. */
function codeProblem(m: Message, root: string): CodeProblem {
  const loc = m.location;
  const unresolved = /^Could not resolve "(.+)"$/.exec(m.text)?.[1];
  let message = m.text;
  if (unresolved !== undefined) {
    message = /^[./]/.test(unresolved)
      ? `${m.text}: no such file: fix the path`
      : `${m.text}: the package is not installed: run \`npm install ${packageName(unresolved)}\` in the function's folder (or a folder above it)`;
  }
  if (!loc) return { message };
  // esbuild's paths are relative to its working directory and its columns start at 0.
  return { file: resolve(root, loc.file), line: loc.line, column: loc.column + 1, message };
}

/** The package a bare import names: `@scope/pkg` or `pkg`, without a subpath. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}
