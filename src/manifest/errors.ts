/** One thing wrong with a manifest, at the exact place to fix it. */
export interface Problem {
  /** Where in the manifest: `functions.csv-summary.triggers[0].bucket`; empty for the whole file. */
  path: string;
  /** What is wrong and what is expected: `required`, `must be one of: none, outbound`. */
  message: string;
  /** 1-based position in the YAML text, when known. */
  line?: number;
  column?: number;
}

/**
 * The manifest cannot be used until these problems are fixed: nothing in it was applied.
 * `message` lists every problem, one `path: message` per line.
 * @example
 * try { parseManifest(text, file) } catch (e) {
 *   if (e instanceof ManifestError) for (const p of e.problems) console.error(`${p.path}: ${p.message}`);
 * }
 */
export class ManifestError extends Error {
  override name = 'ManifestError';

  constructor(
    /** Absolute path of the manifest file. */
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/** `path: message`, or only the message for a problem with the whole file. */
export function formatProblem(p: Problem): string {
  return p.path ? `${p.path}: ${p.message}` : p.message;
}

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/**
 * Renders a path the way a person reads it: keys joined by dots, list indexes in brackets, and
 * keys that would be ambiguous after a dot quoted.
 * @example formatPath(['functions', 'csv-summary', 'triggers', 0, 'bucket']) // 'functions.csv-summary.triggers[0].bucket'
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && PLAIN_KEY.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}
