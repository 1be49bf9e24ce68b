import type { FunctionSpec } from '../manifest/types.js';
import {
  LOGS_TRUNCATED,
  MAX_LOG_BYTES,
  MAX_LOG_LINES,
  type LogLevel,
  type WireError,
} from '../runtime/protocol.js';
import type { RuntimeChannel } from '../pool/channel.js';
import { PoolError, type Pool } from '../pool/pool.js';
import { retiresContainer } from './error-policy.js';

export { MAX_LOG_BYTES } from '../runtime/protocol.js';

export interface LogLine {
  ts: number;
  level: LogLevel;
  msg: string;
}

export interface Outcome {
  ok: boolean;
  value?: unknown;
  error?: WireError;
  logs: LogLine[];
  logsTruncated: boolean;
  cold: boolean;
  prewarmed: boolean;
  /** Time waiting for a container slot (including a cold start). */
  leaseMs: number;
  /** Time the handler ran. */
  durationMs: number;
  container?: string;
  /** The function's version that ran (undefined when none did). */
  version?: number;
  /**
   * Set when this host's engine refuses to start containers: the pool tries again after this
   * long, and the job belongs back in the queue meanwhile (nothing ran).
   */
  backoffMs?: number;
}

/**
 * Runs one invocation on a pooled container: lease a slot, send the event, enforce the timeout
 * (kill the container, which the pool then replaces), collect the logs, release the slot.
 * Never throws: every failure comes back as an Outcome with an error kind.
 */
export async function invoke(
  pool: Pool,
  spec: FunctionSpec,
  inv: { id: string; event: unknown; attempt: number },
): Promise<Outcome> {
  const logs: LogLine[] = [];
  let logBytes = 0;
  let logsTruncated = false;
  const onLog = (level: LogLevel, msg: string, ts: number): void => {
    if (logsTruncated) return;
    logBytes += Buffer.byteLength(msg);
    if (logBytes > MAX_LOG_BYTES || logs.length >= MAX_LOG_LINES) {
      logsTruncated = true;
      const cut = logBytes > MAX_LOG_BYTES ? LOGS_TRUNCATED : `[logs truncated at ${MAX_LOG_LINES} lines]`;
      logs.push({ ts, level: 'warn', msg: cut });
      return;
    }
    logs.push({ ts, level, msg });
  };
  const t0 = Date.now();
  let lease;
  try {
    lease = await pool.lease(spec);
  } catch (err) {
    const error: WireError =
      err instanceof PoolError ? err.wire : { kind: 'no-capacity', message: (err as Error).message };
    return {
      ok: false,
      error,
      logs,
      logsTruncated,
      cold: false,
      prewarmed: false,
      leaseMs: Date.now() - t0,
      durationMs: 0,
      ...(err instanceof PoolError && err.backoffMs !== undefined && { backoffMs: err.backoffMs }),
    };
  }
  const c = lease.container;
  // The version the container runs decides the timeout, not the one the caller knew.
  spec = lease.spec;
  const channel = c.channel as RuntimeChannel;
  const started = Date.now();
  const timer = setTimeout(() => {
    channel.abandon(inv.id, {
      kind: 'timeout',
      message: `timed out after ${spec.timeoutMs} ms (timeout: ${spec.timeoutMs / 1000}s in the manifest)`,
    });
    // kill() handles the engine's failures itself; nothing may escape as an unhandled rejection.
    pool.kill(c, 'timeout').catch(() => undefined);
  }, spec.timeoutMs);
  const result = await channel.invoke(
    { id: inv.id, event: inv.event, deadline: started + spec.timeoutMs, attempt: inv.attempt },
    onLog,
  );
  clearTimeout(timer);
  const durationMs = Date.now() - started;
  let error = result.error;
  if (!result.ok && error && (error.kind === 'container-lost' || error.kind === 'exit')) {
    // The runtime went away: ask the engine why (out of memory, its own exit, killed from outside).
    const cause = await pool.exitCause(c);
    if (cause.kind !== 'container-lost' || error.kind === 'container-lost')
      error = { ...cause, stack: error.stack };
    if (error.kind === 'exit' && result.error?.message && result.error.kind === 'exit') {
      error = { ...error, message: `${result.error.message} (${cause.message})` };
    }
  }
  pool.release(lease, !result.ok && error && retiresContainer(error.kind) ? error.kind : undefined);
  return {
    ok: result.ok,
    value: result.value,
    error,
    logs,
    logsTruncated,
    cold: lease.cold,
    prewarmed: lease.prewarmed,
    leaseMs: started - t0,
    durationMs,
    container: c.name,
    version: spec.version,
  };
}
