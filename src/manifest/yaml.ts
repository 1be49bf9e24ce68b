import { type Document, LineCounter, type Node, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import { type Problem, formatPath } from './errors.js';

/** Line and column (1-based) of a place in the YAML text. */
export type Position = { line: number; column: number };

export interface YamlText {
  /** The document as plain values; undefined when it has syntax problems. */
  data: unknown;
  /** Syntax errors, unresolvable tags or aliases, with their positions. */
  problems: Problem[];
  /** Where a path points in the text: the key of a field, or the nearest enclosing node. */
  locate(path: readonly PropertyKey[]): Position | undefined;
}

/**
 * Alias expansions a manifest may make: room for thousands of functions merging one anchor
 * (`<<: *defaults`), while a YAML bomb makes billions.
 */
const MAX_ALIASES = 10_000;

/**
 * Parses one YAML document, keeping positions so problems found later can name their line.
 * Duplicate keys are errors: the second would silently win.
 */
export function readYaml(text: string): YamlText {
  const lines = new LineCounter();
  // Merge keys (`<<: *defaults`) as serverless.yml and compose files use them.
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, merge: true, lineCounter: lines });
  const at = (offset: number | undefined): Position | undefined => {
    if (offset === undefined) return undefined;
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  const problems: Problem[] = [...doc.errors, ...doc.warnings].map((e) => {
    const pos = at(e.pos[0]);
    const where = pos ? ` at line ${pos.line}, column ${pos.column}` : '';
    if (e.code === 'MULTIPLE_DOCS')
      return {
        path: '',
        message: `a manifest is one YAML document, and a second one starts${where}: remove the \`---\` between them`,
        ...pos,
      };
    return { path: '', message: `YAML syntax error${where}: ${e.message}`, ...pos };
  });
  const locate = (path: readonly PropertyKey[]) => at(find(doc, path));
  if (problems.length > 0) return { data: undefined, problems, locate };
  try {
    const data: unknown = doc.toJS({ maxAliasCount: MAX_ALIASES });
    // Validation copies mappings into new objects, where "__proto__" would set the prototype
    // instead of a key and the entry would vanish unchecked.
    const hidden = protoKeys(data, []).map((path) => ({
      path: formatPath(path),
      message: 'the key "__proto__" is not allowed',
      ...locate(path),
    }));
    return { data: hidden.length > 0 ? undefined : data, problems: hidden, locate };
  } catch (e) {
    // Unresolved or excessive aliases are only found when the document is converted.
    const message = /excessive alias count/i.test((e as Error).message)
      ? `YAML error: its aliases expand to more than ${MAX_ALIASES} copies of anchored values: write the values out instead of nesting aliases`
      : `YAML error: ${(e as Error).message}`;
    return { data: undefined, problems: [{ path: '', message }], locate };
  }
}

/** Offset of the deepest node on `path`: a map entry's key, a list's item. */
function find(doc: Document, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  let offset = (node as Node | null)?.range?.[0];
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number' && node.items[key]) {
      node = node.items[key];
      offset = (node as Node).range?.[0] ?? offset;
    } else {
      break;
    }
  }
  return offset;
}

function protoKeys(value: unknown, path: PropertyKey[]): PropertyKey[][] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, v]) => [
    ...(key === '__proto__' ? [[...path, key]] : []),
    ...protoKeys(v, [...path, Array.isArray(value) ? Number(key) : key]),
  ]);
}
