import { describe, expect, it } from 'vitest';
import { IDLE_UTILIZATION, startIdleTrim, trimDue } from '../../src/observability/idle-trim.js';

describe('trimDue', () => {
  it('collects once, in the first window at rest after a busy one', () => {
    const busy = 0.4;
    const rest = IDLE_UTILIZATION / 4;
    let trimmed = false;
    const collected: boolean[] = [];
    for (const u of [busy, rest, rest, rest, busy, busy, rest, rest]) {
      const due = trimDue(trimmed, u);
      trimmed = due.trimmed;
      collected.push(due.collect);
    }
    expect(collected).toEqual([false, true, false, false, false, false, true, false]);
  });

  it('treats the start as a busy spell: the first window at rest collects', () => {
    expect(trimDue(false, 0)).toEqual({ trimmed: true, collect: true });
  });

  it('counts a window at the threshold as busy', () => {
    expect(trimDue(true, IDLE_UTILIZATION)).toEqual({ trimmed: false, collect: false });
  });
});

describe('startIdleTrim', () => {
  it('runs one full collection once the event loop rests, its own time not counted as work', async () => {
    const times: number[] = [];
    // A heap worth collecting: many objects, dropped.
    let junk: unknown[] = [];
    for (let i = 0; i < 200_000; i++) junk.push({ i, s: `x${i}` });
    junk = [];
    const trim = startIdleTrim(100, (ms) => times.push(ms));
    try {
      await new Promise((r) => setTimeout(r, 650));
    } finally {
      trim.stop();
    }
    expect(junk).toEqual([]);
    expect(times).toHaveLength(1);
    expect(times[0]).toBeGreaterThan(0);
  });
});
