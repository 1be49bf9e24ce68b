import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FunctionSpec, RuntimeName } from '../manifest/types.js';
import type { Logger } from '../observability/logger.js';
import { CONTAINER_TASK_DIR, type InitMessage, type WireError } from '../runtime/protocol.js';
import { CODE_DELIVERY } from '../runtimes/delivery.js';
import { bundleEntry } from '../runtimes/node/entry.js';
import { Limiter } from '../util/limiter.js';
import { linkTree } from '../util/link-tree.js';
import type { StorageGateway } from '../storage/gateway.js';
import type { S3Proxy } from '../storage/s3-proxy/proxy.js';
import { RuntimeChannel } from './channel.js';
import {
  DEFAULT_CLUSTER,
  LABEL_CLUSTER,
  LABEL_FUNCTION,
  LABEL_INSTANCE,
  LABEL_PLATFORM,
  LABEL_POOL,
  type ContainerDriver,
  type ContainerLimits,
  type ContainerSpec,
} from './driver.js';
import type { SlotLedger } from './cluster-cap.js';
import { ClusterSlots } from './cluster-slots.js';
import {
  decide,
  hostBacklog,
  wantedContainers,
  type QueueReading,
  type ScaleContainer,
  type ScaleDecision,
  type ScaleInput,
} from './autoscale.js';
import { pickContainer } from './placement.js';
import { StartBackoff } from './start-backoff.js';
import { transition, type PoolContainer } from './state.js';
import type { Violation, ViolationReason } from './violations.js';

/**
 * Raised to a waiting invocation when no container could be made ready for it. With `backoffMs`
 * this host's engine refuses to start containers and the pool waits that long before it tries
 * again: the job belongs back in the queue, for another host (no attempt of it was made).
 */
export class PoolError extends Error {
  override name = 'PoolError';
  constructor(
    readonly wire: WireError,
    readonly backoffMs?: number,
  ) {
    super(wire.message);
  }
}

export interface PoolOptions {
  driver: ContainerDriver;
  storage: StorageGateway;
  /** Serves the S3 endpoint inside each container; without it that endpoint gets no answer. */
  s3?: S3Proxy;
  image: string;
  /** Names this platform process; every container carries it. */
  instance: string;
  /**
   * The cluster label every container carries; only reapers of the same cluster remove them.
   * @defaultValue 'faas'
   */
  cluster?: string;
  /** Holds one socket directory per container. */
  stateDir: string;
  logger: Logger;
  /** The bundled code of a function, for loading it into a container. */
  code: (spec: FunctionSpec) => Promise<string>;
  /**
   * For a Node.js function that ships files beside its bundle: the host folder laid out as its
   * /var/task (the bundle at its entry among them), linked into the container's task folder
   * instead of the bundle alone being written there. Undefined for a function that is its bundle.
   */
  codeFiles?: (spec: FunctionSpec) => Promise<string | undefined>;
  /**
   * The host folder of a function's built code and dependencies, for runtimes whose code is a
   * folder (python3.11): linked into the container's /var/task before `init`.
   */
  codeDir?: (spec: FunctionSpec) => Promise<string>;
  /** Images of runtimes other than node20 (whose image is `image`). */
  images?: Partial<Record<RuntimeName, string>>;
  /**
   * Finds the image of a runtime `images` lacks, when its first container starts (a deploy added
   * the host's first function of that runtime); without it such a container cannot start.
   */
  findImage?: (runtime: RuntimeName) => Promise<string>;
  /** Generic warm containers to keep ready for any function. */
  prewarm: number;
  /** Generic warm containers per runtime; when unset, `prewarm` node20 ones. */
  prewarmByRuntime?: Partial<Record<RuntimeName, number>>;
  /** Function containers on this host, all functions together. */
  hostCap: number;
  /**
   * The cluster's ledger of each function's containers: with it, scale.max counts the containers
   * of every host that shares it, and a container starts only on a slot it granted. Without it,
   * scale.max counts this host's containers only.
   */
  slots?: SlotLedger;
  /** Limits of generic containers before they are given to a function. */
  genericLimits: ContainerLimits;
  /** The platform's S3 region, given to functions as AWS_REGION (S3_REGION). @defaultValue 'us-east-1' */
  region?: string;
  /** How long a container may take to start and connect. */
  startTimeoutMs?: number;
  /**
   * Container starts the engine is asked for at once (FAAS_START_CONCURRENCY); the rest wait
   * their turn. An engine asked for everything at once is slowest. @defaultValue 8
   */
  startConcurrency?: number;
  /** Called after every change of pool state (for metrics). */
  onChange?: () => void;
  /** Called once per container that broke the runtime protocol (for metrics). */
  onViolation?: (fn: string | undefined, reason: ViolationReason) => void;
}

export interface Lease {
  container: PoolContainer;
  /** The function's version the container runs: the one current when the lease was given. */
  spec: FunctionSpec;
  /** The container's first invocation. */
  cold: boolean;
  prewarmed: boolean;
  waitedMs: number;
}

interface Waiter {
  resolve: (l: Lease) => void;
  reject: (e: PoolError) => void;
  since: number;
}

const PIDS_LIMIT = 128;

/** Container starts the engine is asked for at once, unless told otherwise. */
const DEFAULT_START_CONCURRENCY = 8;

/** A queue reading older than this no longer counts (the autoscaler renews them every 200 ms). */
const STALE_READING_MS = 2000;

function sameLimits(a: ContainerLimits, b: ContainerLimits): boolean {
  return a.memoryBytes === b.memoryBytes && a.cpu === b.cpu && a.pids === b.pids;
}

/**
 * The container pool of one host. It alone changes container state (every mutation happens
 * synchronously in its methods, so no two changes interleave); callers lease a slot, run one
 * invocation on the container's channel, and release it.
 */
export class Pool {
  private readonly containers = new Map<string, PoolContainer>();
  /** The same containers by function (generic ones have none): the per-function reads stay cheap. */
  private readonly byFn = new Map<string, Set<PoolContainer>>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly specs = new Map<string, FunctionSpec>();
  private seq = 0;
  private closed = false;
  /** Each function's queue as last read (by the autoscaler), for the growth policy. */
  private readonly observed = new Map<string, QueueReading & { at: number }>();
  /** Functions removed: they keep no minimum, and only what they hold is finished. */
  private readonly removed = new Set<string>();
  private readonly log: Logger;
  /** Engine starts in flight; close() waits for them, so that none outlives the pool. */
  private readonly starting = new Set<Promise<string>>();
  /** Bounds the engine starts in flight (startConcurrency). */
  private readonly engineStarts: Limiter;
  /** Each function's slots under the cluster's scale.max. */
  private readonly cluster: ClusterSlots;
  /** Kinds of container whose last start the engine refused, and until when none starts. */
  private readonly backoff = new StartBackoff();
  /** A rescale() is due at the end of this turn of the event loop (rescaleSoon). */
  private rescaleQueued = false;
  /** A refill of generic containers waiting for a start backoff to end. */
  private refillTimer?: NodeJS.Timeout;

  constructor(private readonly o: PoolOptions) {
    this.log = o.logger.child({ component: 'pool' });
    this.engineStarts = new Limiter(o.startConcurrency ?? DEFAULT_START_CONCURRENCY);
    this.cluster = new ClusterSlots({
      ledger: o.slots,
      host: o.instance,
      counted: (fn) => this.of(fn).length,
      grant: (fn, n) => this.startGranted(fn, n),
      wake: () => this.rescaleSoon(),
      logger: o.logger,
    });
  }

  /** Starts the warm generic containers. Scaling is the autoscaler's (see autoscaler.ts). */
  async start(): Promise<void> {
    await mkdir(join(this.o.stateDir, 'run'), { recursive: true });
    this.refillGeneric();
  }

  /**
   * Declares a function, or its new version: from now on only containers of this version take
   * invocations; those of an older one finish what they hold and stop (idle ones at once).
   */
  register(spec: FunctionSpec): void {
    const before = this.specs.get(spec.name);
    this.specs.set(spec.name, spec);
    this.removed.delete(spec.name);
    if (!before || before.version === spec.version || this.closed) return;
    // As many containers of the new version as the old one had serving, started now: the load
    // moves over as they come up (pre-warmed generic ones first), not one cold start at a time.
    const serving = this.of(spec.name).filter((c) => c.state === 'ready' && !this.current(c)).length;
    this.retire(spec.name, (c) => !this.current(c), 'new-version');
    const replace = Math.min(serving, spec.scale.max, this.o.hostCap);
    if (replace > 0) this.cluster.ask(spec.name, replace, spec.scale.max);
  }

  /**
   * A function was removed: its containers finish what they hold and stop. Invocations already
   * waiting for a slot are still served (by containers started for them).
   */
  unregister(fn: string): void {
    this.removed.add(fn);
    this.observed.delete(fn);
    this.retire(fn, () => true, 'removed');
  }

  /** Whether a container runs its function's current version. */
  private current(c: PoolContainer): boolean {
    return c.spec?.version === this.specs.get(c.fn ?? '')?.version;
  }

  /** Drains `fn`'s ready containers that `which` picks: idle ones stop now, busy ones when done. */
  private retire(fn: string, which: (c: PoolContainer) => boolean, reason: string): void {
    for (const c of this.of(fn)) {
      if (!which(c) || (c.state !== 'ready' && c.state !== 'draining')) continue;
      transition(c, 'draining');
      c.stopReason = reason;
      if (c.inFlight === 0) this.background(this.stop(c, reason), 'stop a container', fn);
    }
    this.o.onChange?.();
    this.pump(fn);
  }

  /** Whether `fn` has any container here, or an invocation waiting for one. */
  holds(fn: string): boolean {
    return this.of(fn).length > 0 || this.waiting(fn) > 0;
  }

  /** The host's container cap, all functions together. */
  get hostCap(): number {
    return this.o.hostCap;
  }

  /** A function's containers as the autoscaler sees them (stopping ones excluded). */
  scaleView(fn: string): ScaleContainer[] {
    return this.of(fn)
      .filter((c) => c.state !== 'stopping' && c.state !== 'dead' && c.state !== 'generic')
      .map((c) => ({
        name: c.name,
        inFlight: c.inFlight,
        lastUsed: c.lastUsed,
        state: c.state === 'ready' ? 'ready' : c.state === 'draining' ? 'draining' : 'starting',
      }));
  }

  /** Invocation slots of a function's ready and starting containers. */
  slots(fn: string): number {
    const spec = this.specs.get(fn);
    const n = this.of(fn).filter((c) => ['starting', 'loading', 'ready'].includes(c.state)).length;
    return n * (spec?.concurrency ?? 1);
  }

  /** Records a function's queue as just read (the autoscaler's loop reads them). */
  observe(fn: string, reading: QueueReading): void {
    this.observed.set(fn, { ...reading, at: Date.now() });
  }

  /**
   * Work was announced for `fn` and this host had no worker for it: count one job waiting until
   * the queue's first reading (due within the autoscaler's next round) says otherwise, so its first
   * container starts while the worker connects and takes the job, not after.
   */
  expectWork(fn: string, now = Date.now()): void {
    if (this.closed || !this.specs.has(fn) || this.removed.has(fn)) return;
    const read = this.observed.get(fn);
    if (read && now - read.at <= STALE_READING_MS) return;
    this.observed.set(fn, { waiting: 1, active: 0, oldestWaitMs: 0, at: now });
    this.rescaleSoon();
  }

  /**
   * The one growth policy (autoscale.ts `decide`), run over every function with something going
   * on here, and carried out: called by the autoscaler's loop after each reading, and by a lease
   * that finds no free slot (so a burst grows the pool before the next reading). Returns the
   * decisions, for the autoscaler's log.
   */
  rescale(now = Date.now()): ScaleDecision[] {
    if (this.closed) return [];
    this.cluster.beat(now);
    const inputs = this.scaleInputs(now);
    const decisions = decide(inputs, this.o.hostCap, now);
    for (const d of decisions) this.carryOut(d);
    return decisions;
  }

  /**
   * rescale() once the current turn of the event loop is done: the many leases and announcements
   * of a burst (200 functions called at once) share one pass over every function, not one each.
   */
  private rescaleSoon(): void {
    if (this.rescaleQueued || this.closed) return;
    this.rescaleQueued = true;
    setImmediate(() => {
      this.rescaleQueued = false;
      this.rescale();
    });
  }

  /** What `decide` is given: each function with containers, waiting invocations, a backlog or a minimum. */
  private scaleInputs(now: number): ScaleInput[] {
    const inputs: ScaleInput[] = [];
    for (const [fn, spec] of this.specs) {
      const removed = this.removed.has(fn);
      const q = this.waiters.get(fn) ?? [];
      // A reading the loop has not renewed (the function went quiet and is no longer read) is stale.
      const read = this.observed.get(fn);
      const observed = removed || !read || now - read.at > STALE_READING_MS ? undefined : read;
      const mine = this.of(fn);
      const busy = observed && observed.waiting + observed.active > 0;
      if (mine.length === 0 && q.length === 0 && !busy && (removed || spec.scale.min === 0)) {
        this.cluster.want(fn, 0, spec.scale.max);
        continue;
      }
      const backlog = hostBacklog(observed, {
        waiters: q.length,
        inFlight: mine.filter((c) => this.current(c)).reduce((n, c) => n + c.inFlight, 0),
        oldestWaiterMs: q.length > 0 ? now - (q[0] as Waiter).since : 0,
      });
      const min = removed ? 0 : spec.scale.min;
      // What this host would like, published to the other hosts (none while its engine refuses
      // the function's containers: its share goes to hosts that can start them); what it may
      // have, from them.
      const refused = this.backoff.waitFor(fn, now) > 0;
      const want = refused
        ? 0
        : Math.min(
            this.o.hostCap,
            wantedContainers({ ...backlog, concurrency: spec.concurrency, min, max: spec.scale.max }),
          );
      this.cluster.want(fn, want, spec.scale.max);
      // While it backs off, nothing is to start here (and no decision to log every round).
      const cap = refused ? { max: spec.scale.max, room: 0 } : this.cluster.capFor(fn, spec.scale.max);
      inputs.push({
        fn,
        ...backlog,
        concurrency: spec.concurrency,
        min: Math.min(min, cap.max),
        ...cap,
        idleTimeoutMs: spec.scale.idleTimeoutMs,
        containers: this.scaleView(fn),
      });
    }
    return inputs;
  }

  /**
   * Carries out a decision: starts containers in parallel, and drains the named ones (no new
   * invocations; each stops once the ones it holds are done). Never interrupts an invocation.
   */
  private carryOut(d: ScaleDecision): void {
    const spec = this.specs.get(d.fn);
    if (!spec || this.closed) return;
    if (d.start > 0 && this.backoff.waitFor(d.fn, Date.now()) === 0) {
      this.cluster.ask(d.fn, d.start, spec.scale.max);
    }
    for (const name of d.drain) {
      const c = this.containers.get(name);
      if (!c || c.state !== 'ready') continue;
      transition(c, 'draining');
      c.stopReason = 'scale-down';
      if (c.inFlight === 0) this.background(this.stop(c, 'scale-down'), 'stop a container', c.fn);
    }
    if (d.start || d.drain.length) this.o.onChange?.();
  }

  /**
   * Starts `n` containers of `fn` on slots the cluster's ledger granted; returns how many it
   * started (none once the pool closes, the function is gone or its starts back off).
   */
  private startGranted(fn: string, n: number): number {
    const spec = this.specs.get(fn);
    if (!spec || this.closed || this.backoff.waitFor(fn, Date.now()) > 0) return 0;
    for (let i = 0; i < n; i++) this.background(this.provide(spec), 'start a container', fn);
    if (n > 0) this.o.onChange?.();
    return n;
  }

  /** Waits for a free slot on a ready container of `spec`'s function, starting containers as needed. */
  lease(spec: FunctionSpec): Promise<Lease> {
    if (this.closed)
      return Promise.reject(new PoolError({ kind: 'no-capacity', message: 'the pool is shutting down' }));
    // A registered function runs its current version, whatever version the caller last saw.
    if (!this.specs.has(spec.name)) this.specs.set(spec.name, spec);
    return new Promise((resolve, reject) => {
      this.queue(spec.name).push({ resolve, reject, since: Date.now() });
      this.pump(spec.name);
    });
  }

  /** Returns a slot. `destroy` retires the container (it timed out, crashed or is suspect). */
  release(lease: Lease, destroy?: string): void {
    const c = lease.container;
    c.inFlight = Math.max(0, c.inFlight - 1);
    c.lastUsed = Date.now();
    if (destroy) this.background(this.stop(c, destroy), 'stop a container', c.fn);
    else if (c.state === 'draining' && c.inFlight === 0)
      this.background(this.stop(c, c.stopReason ?? 'drained'), 'stop a container', c.fn);
    if (c.fn) this.pump(c.fn);
    this.o.onChange?.();
  }

  /** Kills a container at once (an invocation ran past its timeout). */
  async kill(c: PoolContainer, reason: string): Promise<void> {
    c.stopReason ??= reason;
    if (c.id) await this.o.driver.kill(c.id).catch(() => undefined);
  }

  /** Why a container's runtime went away: out of memory, its own exit, or killed from outside. */
  async exitCause(c: PoolContainer): Promise<WireError> {
    if (c.stopReason === 'timeout') return { kind: 'timeout', message: 'timed out' };
    // A runtime that reported its own crash is asked about before its connection has closed:
    // wait for its end here rather than take a missing answer for a kill from outside.
    const info = await (c.exit ?? this.readExit(c));
    const heapOom = info?.logTail.includes('heap out of memory') ?? false;
    if (info?.oomKilled || heapOom) {
      const spec = c.spec ?? (c.fn ? this.specs.get(c.fn) : undefined);
      const mb = spec ? Math.round(spec.memoryBytes / 1048576) : undefined;
      return {
        kind: 'oom',
        message: `out of memory: the function exceeded its ${mb ?? '?'} MiB memory limit`,
      };
    }
    if (info && !info.running && info.exitCode !== undefined && info.exitCode !== 137) {
      return { kind: 'exit', message: `the function's process exited with code ${info.exitCode}` };
    }
    return { kind: 'container-lost', message: 'the container was killed from outside the platform' };
  }

  /** How the container ended, read once (the engine forgets once the container is removed). */
  private readExit(c: PoolContainer): NonNullable<PoolContainer['exit']> {
    const id = c.id;
    c.exit ??= id
      ? this.o.driver
          .wait(id, 5000)
          .then(() => this.o.driver.inspect(id))
          .catch(() => undefined)
      : Promise.resolve(undefined);
    return c.exit;
  }

  /** A snapshot for metrics and status: containers by function and state. */
  snapshot(): Array<
    Pick<PoolContainer, 'name' | 'fn' | 'state' | 'inFlight' | 'served' | 'prewarmed'> & { version?: number }
  > {
    return [...this.containers.values()].map(({ name, fn, state, inFlight, served, prewarmed, spec }) => ({
      name,
      fn,
      state,
      inFlight,
      served,
      prewarmed,
      version: spec?.version,
    }));
  }

  /** Number of invocations waiting for a slot, per function. */
  waiting(fn: string): number {
    return this.waiters.get(fn)?.length ?? 0;
  }

  /**
   * Fails every invocation waiting for a slot. With `backoffMs` their jobs go back to the queue
   * (for other hosts; no attempt made) and this host takes none of them for that long.
   */
  failWaiting(wire: WireError, backoffMs?: number): void {
    for (const [, ws] of this.waiters) for (const w of ws.splice(0)) w.reject(new PoolError(wire, backoffMs));
  }

  /** Stops every container and fails every waiter. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.refillTimer);
    for (const [, ws] of this.waiters) {
      for (const w of ws.splice(0))
        w.reject(new PoolError({ kind: 'no-capacity', message: 'the pool is shutting down' }));
    }
    await Promise.all([...this.containers.values()].map((c) => this.stop(c, 'shutdown')));
    await Promise.allSettled([...this.starting]);
  }

  private queue(fn: string): Waiter[] {
    let q = this.waiters.get(fn);
    if (!q) this.waiters.set(fn, (q = []));
    return q;
  }

  private of(fn: string): PoolContainer[] {
    const set = this.byFn.get(fn);
    return set ? [...set] : [];
  }

  private live(): PoolContainer[] {
    return [...this.containers.values()].filter((c) => c.state !== 'stopping' && c.state !== 'dead');
  }

  /** Gives waiting invocations free slots, and starts containers for the rest. */
  private pump(fn: string): void {
    const spec = this.specs.get(fn);
    const q = this.waiters.get(fn);
    if (!spec || !q || q.length === 0) return;
    const now = Date.now();
    // Containers of an older version are left to drain: they take no new invocation.
    const mine = this.of(fn).filter((c) => this.current(c));
    const ready = mine.filter((c) => c.state === 'ready');
    while (q.length > 0) {
      const c = pickContainer(ready, spec.concurrency);
      if (!c) break;
      const w = q.shift() as Waiter;
      c.inFlight++;
      const cold = c.served === 0;
      c.served++;
      c.lastUsed = now;
      w.resolve({
        container: c,
        spec: c.spec ?? spec,
        cold,
        prewarmed: cold && c.prewarmed,
        waitedMs: now - w.since,
      });
    }
    if (q.length === 0) return;
    // The engine refuses this function's containers and none here can serve: the jobs go back
    // to the queue, for hosts whose engine starts them.
    const waitMs = this.backoff.waitFor(fn, now);
    if (waitMs > 0 && !mine.some((c) => ['starting', 'loading', 'ready'].includes(c.state))) {
      const wire: WireError = {
        kind: 'no-capacity',
        message: `this host's Docker engine refused to start a container of ${fn}; trying again in ${waitMs} ms`,
      };
      for (const w of q.splice(0)) w.reject(new PoolError(wire, waitMs));
      return;
    }
    // No free slot for the rest: the growth policy decides what starts (and what makes room).
    this.rescaleSoon();
  }

  /** Makes one container ready for `spec`: a generic warm one when there is one, else a new one. */
  private async provide(spec: FunctionSpec): Promise<void> {
    // Generic containers have no network: a function that asks for one gets a container of its own.
    const generic =
      spec.network === 'none'
        ? [...this.containers.values()].find((c) => c.state === 'generic' && c.runtime === spec.runtime)
        : undefined;
    let c: PoolContainer;
    if (generic) {
      c = generic;
      c.prewarmed = true;
      transition(c, 'loading');
      c.fn = spec.name;
      this.indexByFn(c);
      c.spec = spec;
      this.refillGeneric();
    } else {
      c = this.newContainer(spec.name, spec.runtime);
      c.spec = spec;
    }
    try {
      if (!generic) await this.boot(c, this.limits(spec));
      else if (!sameLimits(this.o.genericLimits, this.limits(spec))) {
        // Only when they differ: the engine call is most of a pre-warmed start.
        await this.o.driver.update(c.id as string, this.limits(spec));
      }
      if (c.state !== 'loading') throw new Error(`container ${c.name} stopped while starting`);
      await (c.channel as RuntimeChannel).init(
        {
          functionName: spec.name,
          handler: spec.handler,
          version: spec.version === undefined ? '$LATEST' : String(spec.version),
          region: this.o.region ?? 'us-east-1',
          ...(await this.deliver(c, spec)),
          exportName: spec.exportName,
          env: spec.env,
          memoryMb: Math.round(spec.memoryBytes / 1048576),
        },
        spec.storage,
      );
      if (!this.current(c)) {
        // Another version became current while this one loaded: it never serves.
        await this.stop(c, 'new-version');
        this.pump(spec.name);
        return;
      }
      transition(c, 'ready');
      this.backoff.succeeded(spec.name);
      c.lastUsed = Date.now();
      this.log.debug(
        { container: c.name, fn: spec.name, prewarmed: c.prewarmed, ms: Date.now() - c.createdAt },
        'container ready',
      );
    } catch (err) {
      const engine = (err as WireError).kind === undefined;
      const wire: WireError = engine
        ? { kind: 'no-capacity', message: `could not start a container: ${(err as Error).message}` }
        : (err as WireError);
      // The engine refused (not the function's code): no more starts of it for a while.
      const backoffMs =
        engine && !this.closed ? this.backoff.failed(spec.name, Date.now(), Math.random()) : undefined;
      this.log[this.closed ? 'debug' : 'warn'](
        {
          container: c.name,
          fn: spec.name,
          err: wire.message,
          ...(backoffMs !== undefined && { failures: this.backoff.failuresOf(spec.name), backoffMs }),
        },
        'container failed to become ready',
      );
      await this.stop(c, 'failed');
      // The invocations waiting on this container fail rather than hang; their jobs retry.
      const q = this.queue(spec.name);
      const starting = this.of(spec.name).filter(
        (x) => x.state === 'starting' || x.state === 'loading',
      ).length;
      const ready = this.of(spec.name).filter((x) => x.state === 'ready').length;
      if (ready === 0 && starting === 0) {
        const waitMs = this.backoff.waitFor(spec.name, Date.now());
        for (const w of q.splice(0)) w.reject(new PoolError(wire, waitMs > 0 ? waitMs : undefined));
      }
    }
    this.pump(spec.name);
    this.o.onChange?.();
  }

  /**
   * The code part of the init message. The container's task folder (seen at /var/task, read-only
   * inside) is given the code: a Node.js bundle written at the handler's module path, as Lambda
   * lays it out (`__dirname` is the handler's folder), or a runtime's built folder linked in.
   */
  private async deliver(
    c: PoolContainer,
    spec: FunctionSpec,
  ): Promise<Pick<InitMessage, 'code' | 'taskDir' | 'entry'>> {
    if (CODE_DELIVERY[spec.runtime] === 'inline') {
      const entry = bundleEntry(spec.handler);
      const root = this.taskDir(c);
      const files = await this.o.codeFiles?.(spec);
      if (files) {
        // Files readable by all as unpacked; folders, the task folder too, opened to all here.
        await linkTree(files, root);
        await chmod(root, 0o755);
      } else {
        const file = join(root, entry);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, await this.o.code(spec));
        // Modes set, not asked of mkdir and writeFile: the host's umask would take the container
        // user's (10001) read access away.
        for (let dir = dirname(file); dir.startsWith(root); dir = dirname(dir)) await chmod(dir, 0o755);
        await chmod(file, 0o444);
      }
      if (c.state === 'stopping' || c.state === 'dead') {
        // Stopped meanwhile: its task folder was removed, and this made it again.
        await rm(root, { recursive: true, force: true });
        throw new Error(`container ${c.name} stopped while starting`);
      }
      return { code: '', taskDir: CONTAINER_TASK_DIR, entry };
    }
    if (!this.o.codeDir) throw new Error(`this pool has no code folders for runtime ${spec.runtime}`);
    await linkTree(await this.o.codeDir(spec), this.taskDir(c));
    await chmod(this.taskDir(c), 0o755);
    return { code: '', taskDir: CONTAINER_TASK_DIR };
  }

  /** The host folder a container sees at /var/task: empty until it is given a function. */
  private taskDir(c: PoolContainer): string {
    return join(this.o.stateDir, 'task', c.name);
  }

  private newContainer(fn: string | undefined, runtime: RuntimeName): PoolContainer {
    const name = `faas-${this.o.instance}-${fn ?? 'generic'}-${++this.seq}`.slice(0, 120);
    const c: PoolContainer = {
      name,
      state: 'starting',
      fn,
      runtime,
      inFlight: 0,
      served: 0,
      prewarmed: false,
      createdAt: Date.now(),
      lastUsed: Date.now(),
    };
    this.containers.set(name, c);
    this.indexByFn(c);
    this.o.onChange?.();
    return c;
  }

  private indexByFn(c: PoolContainer): void {
    if (c.fn === undefined) return;
    let set = this.byFn.get(c.fn);
    if (!set) this.byFn.set(c.fn, (set = new Set()));
    set.add(c);
  }

  private limits(spec: FunctionSpec): ContainerLimits {
    return { memoryBytes: spec.memoryBytes, cpu: spec.cpu, pids: PIDS_LIMIT };
  }

  /** Engine start and runtime hello; leaves the container in `loading` (or `generic`). */
  private async boot(c: PoolContainer, limits: ContainerLimits): Promise<void> {
    const dir = join(this.o.stateDir, 'run', c.name);
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await mkdir(this.taskDir(c), { recursive: true, mode: 0o755 });
    c.channel = await RuntimeChannel.listen(join(dir, 'host.sock'), this.o.storage, this.o.s3);
    c.channel.once('violation', (v: Violation, sample?: string) => this.onViolation(c, v, sample));
    c.channel.once('lost', () => {
      if (c.state === 'stopping' || c.state === 'dead') return;
      // Read how it ended before removing it: the engine forgets once the container is gone.
      const exit = this.readExit(c);
      this.background(
        exit.then((info) =>
          this.log.warn(
            { container: c.name, fn: c.fn, reason: c.stopReason, exit: info?.exitCode, oom: info?.oomKilled },
            'container runtime went away',
          ),
        ),
        'read how a container ended',
        c.fn,
      );
      this.background(this.stop(c, c.stopReason ?? 'lost'), 'remove a lost container', c.fn);
    });
    const spec = c.spec ?? (c.fn ? this.specs.get(c.fn) : undefined);
    const started = this.startContainer(c, {
      name: c.name,
      image: await this.imageOf(c.runtime),
      labels: {
        [LABEL_PLATFORM]: 'faas',
        [LABEL_CLUSTER]: this.o.cluster ?? DEFAULT_CLUSTER,
        [LABEL_INSTANCE]: this.o.instance,
        [LABEL_FUNCTION]: c.fn ?? '',
        [LABEL_POOL]: c.fn ? 'function' : 'generic',
      },
      limits,
      socketDir: dir,
      taskDir: this.taskDir(c),
      env: {},
      network: spec?.network ?? 'none',
      tmpfsBytes: 64 * 1024 * 1024,
      logMaxBytes: 1024 * 1024,
    });
    this.starting.add(started);
    try {
      c.id = await started;
    } finally {
      this.starting.delete(started);
    }
    await c.channel.hello(this.o.startTimeoutMs ?? 30_000);
    if (c.state === 'starting') transition(c, c.fn ? 'loading' : 'generic');
  }

  /** The image a runtime's containers run: never another runtime's. */
  private async imageOf(runtime: RuntimeName): Promise<string> {
    if (runtime === 'node20') return this.o.image;
    const known = this.o.images?.[runtime];
    if (known) return known;
    if (!this.o.findImage) throw new Error(`this host has no image for runtime ${runtime}`);
    const found = await this.o.findImage(runtime);
    this.o.images = { ...this.o.images, [runtime]: found };
    return found;
  }

  /**
   * Starts a container on the engine. stop() may run while the engine is still creating it (the
   * pool closing, a failed start); it finds no id to remove then, so the container is removed here.
   */
  private async startContainer(c: PoolContainer, spec: ContainerSpec): Promise<string> {
    const stopped = () => c.state === 'stopping' || c.state === 'dead';
    const refused = () => new Error(`container ${c.name} was stopped while starting`);
    const id = await this.engineStarts.run(async () => {
      // Stopped while it waited for its turn: the engine is not asked at all.
      if (stopped()) throw refused();
      return this.o.driver.run(spec);
    });
    if (stopped()) {
      await this.o.driver.remove(id).catch(() => undefined);
      throw refused();
    }
    return id;
  }

  /** Keeps each runtime's share of generic containers started or starting. */
  private refillGeneric(): void {
    if (this.closed) return;
    const wanted = this.o.prewarmByRuntime ?? { node20: this.o.prewarm };
    for (const [runtime, n] of Object.entries(wanted) as Array<[RuntimeName, number]>) {
      this.refillGenericOf(runtime, n);
    }
  }

  private refillGenericOf(runtime: RuntimeName, prewarm: number): void {
    const key = `generic:${runtime}`;
    const waitMs = this.backoff.waitFor(key, Date.now());
    if (waitMs > 0) {
      this.refillTimer ??= setTimeout(() => {
        this.refillTimer = undefined;
        this.refillGeneric();
      }, waitMs);
      this.refillTimer.unref();
      return;
    }
    const have = [...this.containers.values()].filter(
      (c) => (c.state === 'generic' || c.state === 'starting') && c.fn === undefined && c.runtime === runtime,
    ).length;
    const room = this.o.hostCap - this.live().length;
    for (let i = 0; i < Math.min(prewarm - have, room); i++) {
      const c = this.newContainer(undefined, runtime);
      this.boot(c, this.o.genericLimits)
        .then(() => {
          this.backoff.succeeded(key);
          this.o.onChange?.();
          // An invocation may be waiting for exactly this container.
          for (const fn of this.waiters.keys()) this.pump(fn);
        })
        .catch((err: Error) => {
          // A start cut short by shutdown is expected: only a failure while running is news.
          const level = this.closed ? 'debug' : 'warn';
          const backoffMs = this.closed ? undefined : this.backoff.failed(key, Date.now(), Math.random());
          this.log[level](
            { container: c.name, err: err.message, backoffMs },
            'generic container failed to start',
          );
          this.background(this.stop(c, 'failed'), 'remove a failed container', c.fn);
        });
    }
  }

  /**
   * A container sent what the protocol refuses: its invocations already failed (kind
   * `protocol`); remove it now, whether or not it holds one, so that it serves no more.
   */
  private onViolation(c: PoolContainer, v: Violation, sample: string | undefined): void {
    this.log.warn(
      { container: c.name, fn: c.fn, reason: v.reason, detail: v.detail, sample },
      'container broke the runtime protocol: removing it',
    );
    try {
      this.o.onViolation?.(c.fn, v.reason);
    } catch {
      // Metrics must not keep the container alive.
    }
    c.stopReason ??= 'protocol';
    this.background(this.stop(c, 'protocol'), 'remove a container that broke the protocol', c.fn);
  }

  /**
   * Runs pool work nobody awaits (starts, stops, evictions). Each step handles its own expected
   * failures; anything that still escapes is a bug, logged with what was being done, never an
   * unhandled rejection.
   */
  private background(work: Promise<unknown>, what: string, fn: string | undefined): void {
    work.catch((err: Error) =>
      this.log.error({ fn, err: err.message, stack: err.stack }, `pool failed to ${what}`),
    );
  }

  private async stop(c: PoolContainer, reason: string): Promise<void> {
    if (c.state === 'stopping' || c.state === 'dead') return;
    transition(c, 'stopping');
    c.stopReason ??= reason;
    this.o.onChange?.();
    try {
      if (c.exit) await c.exit;
      if (c.id) await this.o.driver.remove(c.id);
    } catch (err) {
      this.log.warn({ container: c.name, err: (err as Error).message }, 'could not remove container');
    }
    await c.channel?.close().catch(() => undefined);
    await rm(join(this.o.stateDir, 'run', c.name), { recursive: true, force: true }).catch(() => undefined);
    await rm(this.taskDir(c), { recursive: true, force: true }).catch(() => undefined);
    transition(c, 'dead');
    this.containers.delete(c.name);
    const set = c.fn === undefined ? undefined : this.byFn.get(c.fn);
    if (set?.delete(c) && set.size === 0) this.byFn.delete(c.fn as string);
    // Removed from the engine: its slot under the cluster's scale.max is free.
    if (c.fn) this.cluster.release(c.fn);
    this.o.onChange?.();
    // The room it leaves may be what another function's waiting invocations need.
    if (!this.closed) for (const fn of this.waiters.keys()) this.pump(fn);
    if (!c.fn && !this.closed) this.refillGeneric();
  }
}
