/**
 * The autoscaler's decision as a pure function: no I/O, no clock reads (time is passed in).
 * From each function's backlog it computes how many containers the function should have, shares
 * the host's cap fairly when functions together want more, and says which containers to start,
 * drain (finish what they hold, then stop) or leave alone.
 */

export interface ScaleContainer {
  name: string;
  inFlight: number;
  /** When it last finished an invocation (or became ready). */
  lastUsed: number;
  state: 'starting' | 'ready' | 'draining';
}

export interface ScaleInput {
  fn: string;
  /** Jobs waiting (including prioritized) and running. */
  waiting: number;
  active: number;
  /** Age of the oldest waiting job, 0 when none waits. */
  oldestWaitMs: number;
  concurrency: number;
  min: number;
  /**
   * The most containers the function may have on this host: its scale.max, or, when other hosts
   * run it too, what the cluster's ledger leaves this host (cluster-cap.ts `capLeft`). Ready
   * containers beyond it drain, idle ones first, busy ones after their invocation.
   */
  max: number;
  /**
   * Containers it may still start here under the cluster's cap (the ledger's line counts those
   * draining and being removed too); unlimited when absent.
   */
  room?: number;
  idleTimeoutMs: number;
  containers: ScaleContainer[];
}

export interface ScaleDecision {
  fn: string;
  /** What the backlog asks for, clamped to min and max. */
  wanted: number;
  /** What the function gets after sharing the host cap. */
  desired: number;
  start: number;
  /** Containers to drain now (idle past the timeout, or over a fair share another function needs). */
  drain: string[];
  reason: string;
}

/** A function's queue as the policy reads it. */
export interface QueueReading {
  waiting: number;
  active: number;
  oldestWaitMs: number;
}

/**
 * A function's backlog on this host: the queue's last reading (renewed every 200 ms while the
 * function has something going on), or, before there is one, what the pool knows: invocations
 * waiting for a slot or running here are jobs the queue counts as active. So a first call grows
 * the pool at once, and a momentary queue for a slot between two readings does not (the reading
 * decides: a pool would otherwise never shrink under a steady load it can serve).
 * @example hostBacklog(undefined, { waiters: 3, inFlight: 1, oldestWaiterMs: 40 }) // { waiting: 0, active: 4, oldestWaitMs: 40 }
 */
export function hostBacklog(
  observed: QueueReading | undefined,
  local: { waiters: number; inFlight: number; oldestWaiterMs: number },
): QueueReading {
  if (observed) return { ...observed };
  return { waiting: 0, active: local.waiters + local.inFlight, oldestWaitMs: local.oldestWaiterMs };
}

/** Containers the backlog asks for: (waiting + running) / concurrency, within [min, max]. */
export function wantedContainers(
  i: Pick<ScaleInput, 'waiting' | 'active' | 'concurrency' | 'min' | 'max'>,
): number {
  const need = Math.ceil((i.waiting + i.active) / Math.max(1, i.concurrency));
  return Math.max(i.min, Math.min(i.max, need));
}

/**
 * Shares `cap` containers among functions that want `wanted[i]` each: when the sum fits, each
 * gets what it wants. Otherwise every function that wants any gets one first (the oldest waiting
 * job first, should even that not fit), then the rest goes in proportion to what each still
 * wants, largest remainders first. No function with backlog is left at zero while another has two.
 */
export function shareCap(wanted: number[], urgency: number[], cap: number): number[] {
  const total = wanted.reduce((a, b) => a + b, 0);
  if (total <= cap) return [...wanted];
  const out = wanted.map(() => 0);
  const order = wanted.map((_, i) => i).filter((i) => (wanted[i] as number) > 0);
  order.sort((a, b) => (urgency[b] as number) - (urgency[a] as number) || a - b);
  let left = cap;
  for (const i of order) {
    if (left === 0) break;
    out[i] = 1;
    left--;
  }
  const rest = order.map((i) => (wanted[i] as number) - (out[i] as number));
  const restTotal = rest.reduce((a, b) => a + b, 0);
  if (left === 0 || restTotal === 0) return out;
  const shares = order.map((i, k) => ({ i, exact: ((rest[k] as number) * left) / restTotal }));
  let given = 0;
  for (const s of shares) {
    const whole = Math.floor(s.exact);
    out[s.i] = (out[s.i] as number) + whole;
    given += whole;
  }
  shares.sort((a, b) => b.exact - Math.floor(b.exact) - (a.exact - Math.floor(a.exact)) || a.i - b.i);
  for (const s of shares) {
    if (given >= left) break;
    if ((out[s.i] as number) < (wanted[s.i] as number)) {
      out[s.i] = (out[s.i] as number) + 1;
      given++;
    }
  }
  return out;
}

/**
 * One round of decisions for every function on this host.
 * Scale-up is immediate; scale-down only drains containers that have been idle for the
 * function's idle timeout, except when another function needs the room under the host cap:
 * then containers above the fair share drain (idle ones first, busy ones after their current
 * invocation), never interrupting one.
 */
export function decide(inputs: ScaleInput[], hostCap: number, now: number): ScaleDecision[] {
  const wanted = inputs.map(wantedContainers);
  const desired = shareCap(
    wanted,
    inputs.map((i) => i.oldestWaitMs),
    hostCap,
  );
  const live = (i: ScaleInput) => i.containers.filter((c) => c.state !== 'draining');
  const used = inputs.reduce((n, i) => n + live(i).length, 0);
  // Someone is below its share and the host is full: others must give back what exceeds theirs.
  const starved = inputs.some((i, k) => live(i).length < (desired[k] as number)) && used >= hostCap;
  let room = Math.max(0, hostCap - used);
  return inputs.map((i, k) => {
    const have = live(i);
    const want = desired[k] as number;
    const d: ScaleDecision = {
      fn: i.fn,
      wanted: wanted[k] as number,
      desired: want,
      start: 0,
      drain: [],
      reason: 'steady',
    };
    if (have.length < want) {
      d.start = Math.min(want - have.length, room, i.room ?? Infinity);
      room -= d.start;
      d.reason = `backlog ${i.waiting + i.active} (${i.waiting} waiting) wants ${wanted[k]}, share ${want}, has ${have.length}`;
      return d;
    }
    const excess = have.length - want;
    if (excess <= 0) return d;
    const byIdle = have
      .filter((c) => c.state === 'ready')
      .sort((a, b) => a.inFlight - b.inFlight || a.lastUsed - b.lastUsed);
    if (have.length > i.max) {
      // Its cap here shrank (another host's share of the cluster's max grew): give the slots back.
      d.drain = byIdle.slice(0, have.length - i.max).map((c) => c.name);
      d.reason = `cap here ${i.max} (scale.max shared with other hosts): ${have.length} → ${have.length - d.drain.length}`;
      return d;
    }
    if (starved && want < have.length && (wanted[k] as number) > want) {
      d.drain = byIdle.slice(0, excess).map((c) => c.name);
      d.reason = `host cap ${hostCap} shared: ${want} of ${have.length} kept for a function that needs room`;
      return d;
    }
    if (starved && (wanted[k] as number) <= want) {
      d.drain = byIdle
        .filter((c) => c.inFlight === 0)
        .slice(0, excess)
        .map((c) => c.name);
    } else {
      d.drain = byIdle
        .filter((c) => c.inFlight === 0 && now - c.lastUsed >= i.idleTimeoutMs)
        .slice(0, Math.min(excess, have.length - i.min))
        .map((c) => c.name);
    }
    if (d.drain.length)
      d.reason = `idle past ${i.idleTimeoutMs} ms: ${have.length} → ${have.length - d.drain.length}`;
    return d;
  });
}
