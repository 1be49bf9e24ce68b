/**
 * The shapes the console reads from the API: the same routes, the same JSON the CLI reads.
 * Kept here rather than imported from the server so the browser bundle pulls in no Node code.
 */

/** A manifest trigger as /functions lists it (queue and schedule triggers are still to come). */
export interface Trigger {
  type: string;
  bucket?: string;
  prefix?: string;
  suffix?: string;
  path?: string;
  methods?: string[];
  mode?: string;
}

export interface FunctionInfo {
  name: string;
  handler: string;
  runtime: string;
  timeoutMs: number;
  concurrency: number;
  scale: { min: number; max: number; idleTimeoutMs?: number };
  triggers: Trigger[];
  /** The function's version that ran it (null when none did). */
  version: number | null;
}

export interface Backlog {
  waiting: number;
  active: number;
  delayed: number;
  oldestWaitMs: number;
}

export interface PoolCounts {
  starting: number;
  idle: number;
  busy: number;
  draining: number;
}

export interface StatusReport {
  instances: number;
  warm: number;
  functions: Array<{ name: string; backlog: Backlog; containers: PoolCounts }>;
}

export interface Stats {
  count: number;
  failures: number;
  p50: number | null;
  p99: number | null;
}

export interface StatsReport {
  windowMs: number;
  functions: Record<string, Stats>;
}

export interface Health {
  status: 'ok' | 'degraded';
  checks: Record<string, { ok: boolean; ms: number; error?: string }>;
}

export interface IndexEntry {
  id: string;
  status: 'succeeded' | 'failed';
  kind?: string;
  durationMs: number;
  cold: boolean;
  finishedAt: number;
}

export interface LiveSample {
  at: number;
  backlog: Backlog;
  running: number;
  containers: PoolCounts;
  finished: IndexEntry[];
}

export interface WireError {
  kind: string;
  message: string;
  name?: string;
}

export interface LogLine {
  ts: number;
  level: string;
  msg: string;
}

export interface Timings {
  enqueuedAt?: number;
  pickedAt?: number;
  startedAt?: number;
  finishedAt?: number;
  completedAt?: number;
  queueWaitMs?: number;
  leaseMs?: number;
  durationMs?: number;
}

export interface Invocation {
  id: string;
  function: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  result: unknown;
  error: WireError | null;
  logs: LogLine[];
  attempts: number;
  timings: Timings;
  cold: boolean | null;
  prewarmed: boolean | null;
  container: string | null;
  history: Array<{ attempt: number; error?: WireError; finishedAt: number }>;
  /** The event as the handler received it. */
  event: unknown;
  /** The function's version that ran it (null when none did). */
  version: number | null;
}

export interface DeadLetter {
  id: string;
  function: string;
  failedAt?: number;
  attempts: number;
  event: unknown;
  error?: WireError;
  history: Array<{ attempt: number; error?: WireError; finishedAt: number }>;
  logs: LogLine[];
}
