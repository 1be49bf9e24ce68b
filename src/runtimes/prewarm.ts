import { RUNTIME_NAMES, type RuntimeName } from '../manifest/types.js';

/**
 * How FAAS_PREWARM divides between runtimes: it is the number of generic warm containers of the
 * host, all runtimes together, shared among the runtimes the served functions use in proportion
 * to how many functions use each (largest remainder first; a tie goes to the runtime listed
 * first in RUNTIME_NAMES, node20). With no functions, all of them are node20's. Pure.
 * @example dividePrewarm(3, ['node20', 'python3.11', 'python3.11']) // { node20: 1, 'python3.11': 2 }
 * @example dividePrewarm(1, ['node20', 'python3.11']) // { node20: 1, 'python3.11': 0 }
 */
export function dividePrewarm(total: number, used: readonly RuntimeName[]): Record<RuntimeName, number> {
  const out = Object.fromEntries(RUNTIME_NAMES.map((r) => [r, 0])) as Record<RuntimeName, number>;
  if (used.length === 0) {
    out.node20 = total;
    return out;
  }
  const counts = RUNTIME_NAMES.map((r) => used.filter((u) => u === r).length);
  const exact = counts.map((c) => (total * c) / used.length);
  let left = total;
  RUNTIME_NAMES.forEach((r, i) => {
    out[r] = Math.floor(exact[i]!);
    left -= out[r];
  });
  const byRemainder = RUNTIME_NAMES.map((r, i) => ({ r, rest: exact[i]! - Math.floor(exact[i]!), i }))
    .filter(({ i }) => counts[i]! > 0)
    .sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % byRemainder.length, left--) out[byRemainder[k]!.r]++;
  return out;
}
