import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ManifestError, type Problem, formatPath } from './errors.js';
import { realDir, resolveHandler } from './handler.js';
import { humanMessages, type RawProblem, toProblems } from './issues.js';
import { toFunctionSpec } from './normalize.js';
import { handlerProblem } from './rules.js';
import { FIELD_NAMES, manifestSchema } from './schema.js';
import { RUNTIME_NAMES, type FunctionSpec, type Manifest, type RuntimeName } from './types.js';
import { readYaml } from './yaml.js';

/**
 * Validates a manifest's text and returns it with every default filled in. Handler paths are
 * resolved against the folder of `file`, and their files must exist there; with `disk: false`
 * (a manifest deployed through the API, whose code arrives bundled) no file is looked for and
 * `handlerFile` is empty.
 * Throws a {@link ManifestError} listing every problem; nothing is returned half-valid.
 * @example
 * const manifest = parseManifest('version: 1\nfunctions: {}\n', '/srv/functions/manifest.yaml');
 */
export function parseManifest(text: string, file: string, o: { disk?: boolean } = {}): Manifest {
  const disk = o.disk ?? true;
  const path = disk ? resolve(file) : file;
  const dir = disk ? realDir(dirname(path)) : '';
  const yaml = readYaml(text);
  if (yaml.problems.length > 0) throw new ManifestError(path, yaml.problems);
  if (yaml.data === undefined || yaml.data === null) {
    throw new ManifestError(path, [
      { path: '', message: 'the manifest is empty: it needs version: 1 and functions' },
    ]);
  }

  const parsed = manifestSchema.safeParse(withoutExtensions(yaml.data), { error: humanMessages });
  const raw: RawProblem[] = parsed.success ? [] : toProblems(parsed.error.issues, FIELD_NAMES);
  // Handlers are looked up even when the schema failed, so one run reports every problem.
  const handlers = new Map<string, { file: string; exportName: string }>();
  for (const [name, handler, runtime] of declaredHandlers(yaml.data)) {
    // Without a disk (a deploy received by the API) the code came built: only the name counts.
    const found = disk
      ? resolveHandler(dir, handler, runtime)
      : { file: '', exportName: handler.slice(handler.lastIndexOf('.') + 1) };
    if ('problem' in found) raw.push({ path: ['functions', name, 'handler'], message: found.problem });
    else handlers.set(name, found);
  }

  if (!parsed.success || raw.length > 0) {
    const problems: Problem[] = raw.map((p) => ({
      path: formatPath(p.path),
      message: p.message,
      ...yaml.locate(p.path),
    }));
    problems.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
    throw new ManifestError(path, problems);
  }
  const functions: Record<string, FunctionSpec> = {};
  for (const [name, fn] of Object.entries(parsed.data.functions)) {
    functions[name] = toFunctionSpec(name, fn, handlers.get(name)!);
  }
  return { version: 1, file: path, dir, functions };
}

/**
 * Reads and validates the manifest at `file`; a missing or unreadable file is a
 * {@link ManifestError} too.
 * @example const manifest = await loadManifest('functions/manifest.yaml');
 */
export async function loadManifest(file: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new ManifestError(resolve(file), [{ path: '', message: `cannot read ${file}: ${reason}` }]);
  }
  return parseManifest(text, file);
}

/**
 * `[name, handler, runtime]` for every function whose handler is well formed, read from the raw
 * data (an unknown runtime is the schema's to report; its handler is looked up as node20's).
 */
function declaredHandlers(data: unknown): Array<[string, string, RuntimeName]> {
  const functions = (data as { functions?: unknown }).functions;
  if (!functions || typeof functions !== 'object') return [];
  return Object.entries(functions).flatMap(([name, fn]): Array<[string, string, RuntimeName]> => {
    const { handler, runtime } = (fn ?? {}) as { handler?: unknown; runtime?: unknown };
    const known = RUNTIME_NAMES.find((r) => r === runtime) ?? 'node20';
    return typeof handler === 'string' && !handlerProblem(handler) ? [[name, handler, known]] : [];
  });
}

/**
 * The document without its top-level `x-` fields: a place for YAML anchors that merge keys
 * reuse (`x-defaults: &defaults`), as in compose files; nothing reads them.
 */
function withoutExtensions(data: unknown): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data;
  return Object.fromEntries(Object.entries(data).filter(([k]) => !k.startsWith('x-')));
}
