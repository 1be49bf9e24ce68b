/** Printing results: the figures table, the warm-path breakdown, and a comparison with an earlier file. */

/** Scenario objects in the order they are printed. */
export const SCENARIOS = [
  'warm_invoke',
  'cold_start',
  'throughput',
  'bucket',
  'scaling',
  'memory',
  's3_endpoint',
  'many_functions',
];

/** Keys that hold an aim rather than a measured figure: printed in their own table. */
const isAim = (/** @type {string} */ k) => k.startsWith('aim_');

/**
 * @param {string[][]} rows first row is the header
 * @returns {string}
 */
export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)));
  const line = (/** @type {string[]} */ r) =>
    r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** @param {unknown} v */
const fmt = (v) =>
  typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '—') : v === undefined ? '' : String(v);

/**
 * The figures: median (the reported value), min and max over repetitions.
 * @param {Record<string, any>} results
 */
export function figuresTable(results) {
  const rows = [['figure', 'median', 'min', 'max', 'reps']];
  for (const s of SCENARIOS) {
    for (const [k, v] of Object.entries(results[s] ?? {})) {
      if (isAim(k)) continue;
      const d = results.detail?.[s]?.[k];
      const reps = d ? String(d.n) : k.startsWith('ratio') ? '(of medians)' : '';
      rows.push([`${s}.${k}`, fmt(v), fmt(d?.min), fmt(d?.max), reps]);
    }
  }
  return table(rows);
}

/**
 * @param {Record<string, any>} b the warm_path_breakdown object
 */
export function breakdownTable(b) {
  const out = [];
  for (const side of ['platform', 'baseline']) {
    const t = b?.[side];
    if (!t?.stages) continue;
    const rows = [[`${side} stage`, 'median ms', 'mean ms', 'share']];
    // Shares of the answer's path: stages that were not seen, and the job's completion (which
    // follows the record off that path), have none.
    const onPath = (/** @type {string} */ k, /** @type {any} */ s) =>
      Number.isFinite(s.median_ms) && k !== 'record_to_complete';
    const sum = Object.entries(t.stages).reduce((a, [k, s]) => a + (onPath(k, s) ? s.median_ms : 0), 0);
    for (const [k, s] of Object.entries(t.stages))
      rows.push([
        k,
        fmt(s.median_ms),
        fmt(s.mean_ms),
        onPath(k, s) ? `${Math.round((100 * s.median_ms) / sum)}%` : '—',
      ]);
    rows.push(['(end to end, median)', fmt(t.total_median_ms), '', '']);
    out.push(table(rows));
  }
  return out.join('\n\n');
}

/**
 * Each figure against an earlier results file: value, previous, value / previous.
 * @param {Record<string, any>} now
 * @param {Record<string, any>} before
 */
export function compareTable(now, before) {
  const rows = [['figure', 'value', 'previous', 'ratio']];
  for (const s of SCENARIOS) {
    for (const [k, v] of Object.entries(now[s] ?? {})) {
      if (isAim(k)) continue;
      const p = before?.[s]?.[k];
      const ratio = typeof v === 'number' && typeof p === 'number' && p !== 0 ? (v / p).toFixed(2) : '—';
      rows.push([`${s}.${k}`, fmt(v), fmt(p), ratio]);
    }
  }
  return table(rows);
}

/**
 * Each figure that has an aim (`aim_<figure>_max` beside it), the aim, and whether it is met.
 * @param {Record<string, any>} results
 */
export function aimsTable(results) {
  const rows = [['figure', 'value', 'aim', 'met']];
  for (const s of SCENARIOS) {
    const o = results[s] ?? {};
    for (const [k, aim] of Object.entries(o)) {
      const m = /^aim_(.+)_max$/.exec(k);
      if (!m) continue;
      const v = o[m[1]];
      const met = typeof v === 'number' && Number.isFinite(v) ? (v <= aim ? 'yes' : 'no') : '—';
      rows.push([`${s}.${m[1]}`, fmt(v), `≤ ${aim}`, met]);
    }
  }
  return rows.length > 1 ? table(rows) : '';
}
