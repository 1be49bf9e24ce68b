import type { z } from 'zod';

/** A problem before its path is formatted and located in the YAML text. */
export interface RawProblem {
  path: PropertyKey[];
  message: string;
}

type Issue = z.core.$ZodIssue;

const NOUNS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value)',
  record: 'a mapping (key: value)',
};

/**
 * Zod's messages, reworded for someone editing YAML. Messages set on a schema take precedence;
 * this is the fallback for everything else.
 */
export const humanMessages: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'required';
      if (iss.input === null) return `must not be empty: give ${NOUNS[iss.expected] ?? iss.expected}`;
      return `must be ${NOUNS[iss.expected] ?? iss.expected}`;
    case 'invalid_value':
      return iss.values.length === 1
        ? `must be ${JSON.stringify(iss.values[0])}`
        : `must be one of: ${iss.values.join(', ')}`;
    case 'too_small':
      if (iss.origin === 'array') return `must list at least ${String(iss.minimum)}`;
      if (iss.origin === 'string') return 'must not be empty';
      return iss.inclusive
        ? `must be at least ${String(iss.minimum)}`
        : `must be more than ${String(iss.minimum)}`;
    case 'too_big':
      if (iss.origin === 'array') return `must list at most ${String(iss.maximum)}`;
      if (iss.origin === 'string') return `must be at most ${String(iss.maximum)} characters`;
      return iss.inclusive
        ? `must be at most ${String(iss.maximum)}`
        : `must be less than ${String(iss.maximum)}`;
    default:
      return undefined;
  }
};

/**
 * Turns zod's issues into one problem per thing to fix: an unknown field at its own path, and for
 * a union (a trigger is a bucket or a webhook) the problems of the variant the input was meant as.
 */
export function toProblems(
  issues: readonly Issue[],
  knownFields: readonly string[],
  base: PropertyKey[] = [],
): RawProblem[] {
  return issues.flatMap((issue): RawProblem[] => {
    const path = [...base, ...issue.path];
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((key) => ({
          path: [...path, key],
          message: `unknown field "${key}"${didYouMean(key, knownFields)}`,
        }));
      case 'invalid_key':
        return toProblems(issue.issues, knownFields, path);
      case 'invalid_union': {
        const variant = intendedVariant(issue.errors);
        return variant ? toProblems(variant, knownFields, path) : [{ path, message: issue.message }];
      }
      default:
        return [{ path, message: issue.message }];
    }
  });
}

/**
 * The variant the author meant: of those whose shape matched (no problem with the value as a
 * whole but unknown fields), the one with the fewest unknown fields, since `{ webhook: ... }` is
 * not a bucket trigger with an unknown field. Undefined when ambiguous: the union's message applies.
 */
function intendedVariant(variants: readonly Issue[][]): Issue[] | undefined {
  const unknown = (v: Issue[]) =>
    v.reduce((n, i) => n + (i.code === 'unrecognized_keys' && i.path.length === 0 ? i.keys.length : 0), 0);
  const candidates = variants
    .filter((v) => v.every((i) => i.path.length > 0 || i.code === 'unrecognized_keys'))
    .sort((a, b) => unknown(a) - unknown(b));
  if (candidates.length === 0) return undefined;
  if (candidates.length > 1 && unknown(candidates[0]!) === unknown(candidates[1]!)) return undefined;
  return candidates[0];
}

function didYouMean(key: string, known: readonly string[]): string {
  if (key.length < 3) return '';
  const ranked = known
    .map((k) => ({ k, d: distance(k.toLowerCase(), key.toLowerCase()) }))
    .filter(({ d }) => d <= 2)
    .sort((a, b) => a.d - b.d);
  return ranked[0] ? ` (did you mean "${ranked[0].k}"?)` : '';
}

/** Levenshtein distance; inputs are short field names. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}
