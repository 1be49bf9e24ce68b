/** Milliseconds for people: 0.8 ms, 42 ms, 1.3 s, 2.1 min. */
export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (v < 1) return `${v.toFixed(1)} ms`;
  if (v < 1000) return `${Math.round(v)} ms`;
  if (v < 60_000) return `${(v / 1000).toFixed(1)} s`;
  return `${(v / 60_000).toFixed(1)} min`;
}

/** A time of day, with the date when it is not today. */
export function when(ts: number | undefined): string {
  if (!ts) return '–';
  const d = new Date(ts);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

export function json(v: unknown): string {
  return v === undefined ? 'undefined' : JSON.stringify(v, null, 2);
}
