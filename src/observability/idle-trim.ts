/**
 * Gives memory back when the process is at rest. V8 collects its old generation only when it
 * grows, so the garbage of a start (bundling, deploying, pre-warming) or of a burst stays in the
 * heap, and RSS with it, for as long as nothing happens: the normal state of most functions.
 * Once the event loop has been nearly idle for a whole window after being busy, one full
 * collection runs (tens of ms, once per quiet period); a busy process is never interrupted. The
 * collection also starts V8's memory reducer, which some 8 s later shrinks the young generation
 * (32 MB after a start or a burst) to what a process at rest needs.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The event loop's share of busy time below which a window counts as at rest. */
export const IDLE_UTILIZATION = 0.05;

/**
 * After a window's event-loop utilization: whether to collect now. The first window at rest
 * after a busy one collects; later ones at rest do not, until the process has been busy again.
 * Pure.
 */
export function trimDue(trimmed: boolean, utilization: number): { trimmed: boolean; collect: boolean } {
  if (utilization >= IDLE_UTILIZATION) return { trimmed: false, collect: false };
  return { trimmed: true, collect: !trimmed };
}

/** V8's collector, made callable without starting node with --expose-gc. */
function collector(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

export interface IdleTrim {
  stop(): void;
}

/**
 * Checks the event loop every `windowMs`; after a busy spell, the first window at rest runs one
 * full collection. `onTrim` hears of each (for the log).
 */
export function startIdleTrim(windowMs = 3000, onTrim?: (ms: number) => void): IdleTrim {
  const gc = collector();
  if (!gc) return { stop: () => undefined };
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  // The start itself is a busy spell: the first quiet window after it collects.
  let trimmed = false;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const window = performance.eventLoopUtilization(now, last);
    last = now;
    const due = trimDue(trimmed, window.utilization);
    trimmed = due.trimmed;
    if (!due.collect) return;
    const started = performance.now();
    gc();
    onTrim?.(performance.now() - started);
    // The collection's own time is not work: the next window starts after it.
    last = performance.eventLoopUtilization();
  }, windowMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
