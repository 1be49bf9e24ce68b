/**
 * Small statistics for benchmark figures: percentiles of samples, and the median/min/max summary
 * every reported figure carries across repetitions.
 */

/**
 * The q-quantile (0..1) of numbers, by linear interpolation between the closest ranks.
 * @example quantile([1, 2, 3, 4], 0.5) // 2.5
 * @param {number[]} values
 * @param {number} q
 * @returns {number}
 */
export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** @param {number[]} values */
export const median = (values) => quantile(values, 0.5);

/** @param {number[]} values */
export const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * Median, min and max of one figure's repetitions, rounded for reading.
 * @param {number[]} values one value per repetition
 * @returns {{ median: number, min: number, max: number, n: number }}
 */
export function summarize(values) {
  return {
    median: round(median(values)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
    n: values.length,
  };
}

/**
 * Rounds to 3 significant decimals for small numbers, fewer for large ones.
 * @param {number} x
 */
export function round(x) {
  if (!Number.isFinite(x)) return x;
  const a = Math.abs(x);
  const digits = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : 3;
  return Number(x.toFixed(digits));
}
