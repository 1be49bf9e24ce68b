import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { FunctionSpec } from '../manifest/types.js';
import type { Logger } from '../observability/logger.js';
import type { Pool } from '../pool/pool.js';
import { holdCommands } from '../queue/coalesce.js';
import { QUEUE_PREFIX, queueName } from '../queue/names.js';
import { handlerEvent } from '../queue/handler-event.js';
import { jobPayloadSchema } from '../queue/payload.js';
import {
  carried,
  carriedBy,
  looksCarried,
  type InvocationRecord,
  type RecordStore,
} from '../queue/records.js';
import type { WireError } from '../runtime/protocol.js';
import { backoffDelay } from '../util/backoff.js';
import { endsRetries } from './error-policy.js';
import { invoke, type Outcome } from './invoke.js';

/** Time beyond the function's timeout before BullMQ treats a job's lock as lost. */
const LOCK_MARGIN_MS = 30_000;
/** How often BullMQ looks for jobs whose worker died. */
const STALLED_INTERVAL_MS = 30_000;
/** How long a close that passed its deadline is given once its blocking connection is cut. */
const CUT_GRACE_MS = 2000;

/** Whether `p` settles (either way) within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export interface WorkerOptions {
  spec: FunctionSpec;
  /**
   * The function's current version, read as each job starts (a deploy changes it); `spec` when
   * absent or when the function was just removed.
   */
  current?: () => FunctionSpec | undefined;
  connection: Redis;
  pool: Pool;
  /**
   * Jobs it may hold at once as it starts: the slots of the function's containers on this host
   * now (a worker stopped while idle starts again with its containers still up). The autoscaler
   * follows the pool after that (setConcurrency). At least 1. @defaultValue 1
   */
  startConcurrency?: () => number;
  records: RecordStore;
  logger: Logger;
  /** Lock time beyond the function's timeout (FAAS_LOCK_MARGIN). @defaultValue 30 s */
  lockMarginMs?: number;
  /** How often to look for jobs of dead workers (FAAS_STALLED_INTERVAL). @defaultValue 30 s */
  stalledIntervalMs?: number;
  /** The platform's S3 region, given to bucket events as `awsRegion` (S3_REGION). @defaultValue 'us-east-1' */
  region?: string;
  /** Called after each attempt (metrics). */
  onOutcome?: (spec: FunctionSpec, outcome: Outcome) => void;
}

/** Raised to BullMQ for a failed attempt; carries the kind for the dead-letter view. */
export class InvocationFailed extends Error {
  constructor(readonly wire: WireError) {
    super(`${wire.kind}: ${wire.message}`);
    this.name = wire.name ?? 'InvocationFailed';
  }
}

/**
 * Pulls one function's jobs from its queue and runs each on the pool. The bridge between queue
 * and pool: BullMQ decides retries and backoff, the pool decides containers.
 */
export class FunctionWorker {
  private worker?: Worker;
  private readonly log: Logger;
  /** Jobs being processed now, and when the last one started or ended (for the dispatcher). */
  private running = 0;
  private lastActive = Date.now();
  /**
   * When it last could start taking a job it had not: it started, a job started or ended, its
   * concurrency rose, or it resumed. See takesNothingFor().
   */
  private freeSince = Date.now();
  /** Paused by the host (its engine does not answer): see pause(). */
  private hostPaused = false;
  /** No job taken before this time: the pool backs off starting this function's containers. */
  private heldUntil = 0;
  private holdTimer?: NodeJS.Timeout;

  constructor(private readonly o: WorkerOptions) {
    this.log = o.logger.child({ component: 'worker', fn: o.spec.name });
  }

  start(): void {
    const { spec } = this.o;
    this.freeSince = Date.now();
    const processor = async (job: Job, token: string | undefined): Promise<unknown> => {
      this.running++;
      this.lastActive = this.freeSince = Date.now();
      try {
        return await this.process(job, token);
      } finally {
        this.running--;
        this.lastActive = this.freeSince = Date.now();
      }
    };
    this.worker = new Worker(queueName(spec.name), processor, {
      connection: this.o.connection,
      prefix: QUEUE_PREFIX,
      // The autoscaler follows the pool's slots as containers come and go (setConcurrency).
      concurrency: Math.max(1, this.o.startConcurrency?.() ?? 1),
      lockDuration: spec.timeoutMs + (this.o.lockMarginMs ?? LOCK_MARGIN_MS),
      stalledInterval: this.o.stalledIntervalMs ?? STALLED_INTERVAL_MS,
      settings: {
        backoffStrategy: (attemptsMade: number) => {
          const { retry } = this.spec();
          return backoffDelay(attemptsMade, retry.backoffMs, retry.maxBackoffMs, Math.random());
        },
      },
    });
    this.worker.on('error', (err) => this.log.error({ err: err.message }, 'worker error'));
    // A record carried in the job's completion enters the function's index once BullMQ has
    // completed the job (a completion refused because the lock lapsed indexes nothing).
    this.worker.on('completed', (_job, result: unknown) => {
      const record = carriedBy(result);
      if (record) this.o.records.index(record);
    });
  }

  /** How long it has held no job (0 while it holds one). */
  idleFor(now = Date.now()): number {
    return this.running > 0 ? 0 : now - this.lastActive;
  }

  /**
   * How long it has been free to take a job (not paused or held off, below its concurrency) and
   * taken none: with jobs waiting in its queue, a sign that its blocking connection is wedged.
   * 0 while it may not take one.
   */
  takesNothingFor(now = Date.now()): number {
    const w = this.worker;
    if (!w || this.hostPaused || now < this.heldUntil || w.isPaused() || this.running >= w.concurrency)
      return 0;
    return now - this.freeSince;
  }

  /** Jobs held at once follow the pool's ready capacity, so idle hosts can take the rest. */
  setConcurrency(n: number): void {
    if (!this.worker || this.worker.concurrency === n) return;
    if (n > this.worker.concurrency) this.freeSince = Date.now();
    this.worker.concurrency = n;
  }

  /** Takes no new job (the jobs it holds go on); `resume` takes jobs again. */
  pause(): void {
    this.hostPaused = true;
    if (this.worker && !this.worker.isPaused()) void this.worker.pause(true);
  }

  resume(): void {
    this.hostPaused = false;
    if (Date.now() < this.heldUntil) return;
    this.freeSince = Date.now();
    if (this.worker?.isPaused()) this.worker.resume();
  }

  /**
   * Takes no new job for `ms` (the pool could start no container here and tries again then):
   * meanwhile the queue's jobs go to other hosts.
   */
  private holdOff(ms: number): void {
    this.heldUntil = Math.max(this.heldUntil, Date.now() + ms);
    if (this.worker && !this.worker.isPaused()) void this.worker.pause(true);
    clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => {
      this.heldUntil = 0;
      this.freeSince = Date.now();
      if (!this.hostPaused && this.worker?.isPaused()) this.worker.resume();
    }, this.heldUntil - Date.now());
    this.holdTimer.unref();
  }

  /**
   * Stops taking jobs and waits for the ones running, up to `deadlineMs`; jobs still running then
   * are left to BullMQ's stalled-job recovery (another worker, or this one restarted, runs them).
   * Always returns by the deadline (and a short grace): a blocking connection to a Redis Cluster
   * that lost every node can wait forever for an end that never comes, and BullMQ keeps the first
   * close it was asked for, so a later forced one would wait with it.
   */
  async close(deadlineMs = 30_000): Promise<void> {
    clearTimeout(this.holdTimer);
    const worker = this.worker;
    if (!worker) return;
    const graceful = worker.close();
    // With no job of its own left for CUT_GRACE_MS (what BullMQ records after a job ends takes
    // far less), a close still waiting is waiting on its blocking connection only.
    const start = Date.now();
    const deadline = start + deadlineMs;
    for (;;) {
      const idleSince = Math.max(start, this.lastActive);
      const cutAt = this.running > 0 ? deadline : Math.min(deadline, idleSince + CUT_GRACE_MS);
      const left = Math.min(cutAt - Date.now(), 100);
      if (left <= 0) break;
      if (await settlesWithin(graceful, left)) return;
    }
    if (this.running > 0) {
      this.log.warn(
        { deadlineMs, running: this.running },
        'in-flight jobs did not finish before the shutdown deadline',
      );
    } else {
      this.log.warn('the queue connection did not close with no job left: cut and left behind');
    }
    // Cut the blocking connection without waiting for its end; what still hangs is left behind.
    const blocking = (
      worker as unknown as { blockingConnection?: { disconnect(wait: boolean): Promise<void> } }
    ).blockingConnection;
    await settlesWithin(blocking?.disconnect(false) ?? Promise.resolve(), CUT_GRACE_MS);
    await settlesWithin(graceful, CUT_GRACE_MS);
  }

  private spec(): FunctionSpec {
    return this.o.current?.() ?? this.o.spec;
  }

  private async process(job: Job, token: string | undefined): Promise<unknown> {
    const spec = this.spec();
    const payload = jobPayloadSchema.parse(job.data);
    const id = job.id as string;
    const attempt = job.attemptsMade + 1;
    const startedAt = Date.now();
    const outcome = await invoke(this.o.pool, spec, {
      id,
      event: handlerEvent(payload, this.o.region ?? 'us-east-1'),
      attempt,
    });
    if (outcome.backoffMs !== undefined && token) {
      // Nothing ran: the job goes back to the head of the queue, its attempt not spent, and this
      // host takes none of the function's jobs while its engine is given time (other hosts do).
      this.holdOff(outcome.backoffMs);
      await job.moveToWait(token);
      this.log.info(
        { id, attempt, backoffMs: outcome.backoffMs, err: outcome.error?.message },
        'no container could start on this host: job handed back to the queue',
      );
      throw new WaitingError();
    }
    this.o.onOutcome?.(spec, outcome);
    const final = !outcome.ok && outcome.error && endsRetries(outcome.error.kind);
    // The attempts the job was queued with: a deploy in between changes only later jobs.
    const willRetry = !outcome.ok && !final && attempt < (job.opts.attempts ?? spec.retry.attempts);
    const previous = attempt > 1 ? await this.o.records.get(id) : undefined;
    const error = outcome.error && {
      kind: outcome.error.kind,
      name: outcome.error.name,
      message: outcome.error.message,
      // The handler's own stack (a Python traceback): where a person starts looking.
      ...(outcome.error.stack !== undefined && { stack: outcome.error.stack }),
    };
    const record: InvocationRecord = {
      id,
      function: spec.name,
      version: outcome.version,
      status: outcome.ok ? 'succeeded' : willRetry ? 'queued' : 'failed',
      result: outcome.ok ? outcome.value : undefined,
      error,
      logs: outcome.logs,
      attempts: attempt,
      cold: outcome.cold,
      prewarmed: outcome.prewarmed,
      container: outcome.container,
      source: payload.source,
      timings: {
        enqueuedAt: payload.enqueuedAt,
        pickedAt: startedAt,
        startedAt: startedAt + outcome.leaseMs,
        finishedAt: Date.now(),
        queueWaitMs: startedAt - payload.enqueuedAt + outcome.leaseMs,
        leaseMs: outcome.leaseMs,
        durationMs: outcome.durationMs,
      },
      history: previous?.error
        ? [
            ...(previous.history ?? []),
            {
              attempt: previous.attempts,
              error: previous.error,
              finishedAt: previous.timings.finishedAt ?? 0,
            },
          ]
        : previous?.history,
    };
    const logOutcome = () =>
      this.log.info(
        {
          id,
          attempt,
          version: outcome.version,
          ok: outcome.ok,
          kind: outcome.error?.kind,
          cold: outcome.cold,
          ms: outcome.durationMs,
        },
        outcome.ok ? 'invocation succeeded' : 'invocation failed',
      );
    // Only a sync invoke or webhook has a caller waiting for the outcome's announcement.
    const announce = 'sync' in payload && payload.sync;
    // Nobody waits for an async invocation that succeeded the first time its job was started:
    // its record is what the job returns, and BullMQ's completion stores it (see CARRIED),
    // checked against the job's lock like any completion. A job started before (a retry, a
    // re-driven dead letter, a stalled job's second run) may have left a record of its own, which
    // a write replaces (a first start is always a first attempt: nothing to read as `previous`).
    if (outcome.ok && !announce && token && job.attemptsStarted <= 1) {
      logOutcome();
      return carried(record);
    }
    const lockKey = `${QUEUE_PREFIX}:${queueName(spec.name)}:${id}:lock`;
    // An async record that is written (a failure, or a success after failed attempts), then
    // BullMQ's completion of the job, leave in one write on one connection, so Redis runs them in
    // that order with no round trip between (the completion waits for no reply; a record refused
    // because the lock lapsed is met by a completion refused for the same reason). A sync caller
    // was answered as its record was sent (RecordStore.onFinal); its completion waits for the
    // record's reply, so that a caller's next call has usually reached Redis by then and BullMQ's
    // completion takes it as the next job.
    if (!announce) holdCommands(this.o.connection);
    const written = token
      ? this.o.records.putIfOwner(record, lockKey, token, announce)
      : this.o.records.put(record, announce).then(() => true);
    const lockLost = () =>
      this.log.warn({ id, attempt }, 'job lock lost (another worker owns the job now): result not recorded');
    if (announce) {
      if (!(await written)) {
        lockLost();
        throw new Error(`lock for ${id} lost; the job's new owner records its result`);
      }
    } else {
      void written.then(
        (owned) => owned || lockLost(),
        (err: Error) => this.log.warn({ id, attempt, err: err.message }, 'the result could not be recorded'),
      );
    }
    logOutcome();
    // The handler's result goes to BullMQ as the job's return value, unless it has the shape of a
    // carried record: stored, that would be read as this invocation's record.
    if (outcome.ok) return looksCarried(outcome.value) ? null : (outcome.value ?? null);
    const err = new InvocationFailed(outcome.error as WireError);
    if (final) throw new UnrecoverableError(err.message);
    throw err;
  }
}
