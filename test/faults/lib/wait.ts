/** Waiting with deadlines, and the one report line per scenario. */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves once `cond` holds (polled every 50 ms), or throws after `timeoutMs`. */
export async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Prints one scenario's numbers on one line. */
export function report(scenario: string, numbers: Record<string, number | string>): void {
  const fields = Object.entries(numbers).map(([k, v]) => `${k}=${v}`);
  console.log(`[faults] ${scenario}: ${fields.join(' ')}`);
}

/** Seconds from `from` to `to`, for the report. */
export function seconds(from: number, to: number): string {
  return `${((to - from) / 1000).toFixed(1)}s`;
}
