import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface PoolView {
  snapshot(): Array<{ fn?: string; state: string; inFlight: number }>;
}

export interface BacklogView {
  /** Waiting (incl. prioritized) and active jobs, delayed retries, the oldest waiting job's age. */
  backlog(fn: string): Promise<{ waiting: number; active: number; delayed: number; oldestWaitMs: number }>;
}

/** The state a container is reported in: starting, idle, busy, draining (generic: warm). */
export function reportedState(c: { state: string; inFlight: number }): string {
  if (c.state === 'starting' || c.state === 'loading') return 'starting';
  if (c.state === 'ready') return c.inFlight > 0 ? 'busy' : 'idle';
  if (c.state === 'generic') return 'warm';
  return c.state;
}

/**
 * The platform's Prometheus metrics. Counters are updated as things happen; pool and queue
 * gauges are read when /metrics is scraped.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly invocations = new Counter({
    name: 'faas_invocations_total',
    help: 'Invocation attempts by function and outcome (ok, or the error kind).',
    labelNames: ['function', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'faas_invocation_duration_seconds',
    help: 'Time the handler ran.',
    labelNames: ['function'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly coldStarts = new Counter({
    name: 'faas_cold_starts_total',
    help: 'Invocations that were the first of their container, by whether it came pre-warmed.',
    labelNames: ['function', 'prewarmed'] as const,
    registers: [this.registry],
  });
  readonly protocolViolations = new Counter({
    name: 'faas_protocol_violations_total',
    help: 'Containers removed for a message the runtime protocol refuses, by function and reason.',
    labelNames: ['function', 'reason'] as const,
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: 'faas_events_total',
    help: 'Events by source (bucket, webhook, invoke, …) and outcome (queued, unavailable, invalid).',
    labelNames: ['source', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly missedHeartbeats = new Counter({
    name: 'faas_heartbeats_missed_total',
    help: 'Heartbeats this instance could not write (past 10 s without one, other platforms may remove its containers).',
    registers: [this.registry],
  });
  readonly reaperFailures = new Counter({
    name: 'faas_reaper_failures_total',
    help: 'Leftover-container sweeps and removals that failed, by operation.',
    labelNames: ['op'] as const,
    registers: [this.registry],
  });

  constructor(functions: () => string[], pool?: PoolView, queues?: BacklogView) {
    collectDefaultMetrics({ register: this.registry, prefix: 'faas_process_' });
    const registers = [this.registry];
    new Gauge({
      name: 'faas_containers',
      help: 'Function containers by function and state (generic ones have function="").',
      labelNames: ['function', 'state'] as const,
      registers,
      collect() {
        this.reset();
        for (const c of pool?.snapshot() ?? []) this.inc({ function: c.fn ?? '', state: reportedState(c) });
      },
    });
    const backlog = new Gauge({
      name: 'faas_backlog',
      help: 'Jobs waiting or running.',
      labelNames: ['function', 'state'] as const,
      registers,
    });
    const oldest = new Gauge({
      name: 'faas_oldest_job_age_seconds',
      help: 'Age of the oldest waiting job.',
      labelNames: ['function'] as const,
      registers,
    });
    this.collectQueues = async () => {
      if (!queues) return;
      for (const fn of functions()) {
        const b = await queues.backlog(fn);
        backlog.set({ function: fn, state: 'waiting' }, b.waiting);
        backlog.set({ function: fn, state: 'active' }, b.active);
        backlog.set({ function: fn, state: 'delayed' }, b.delayed);
        oldest.set({ function: fn }, b.oldestWaitMs / 1000);
      }
    };
  }

  private readonly collectQueues: () => Promise<void>;

  async render(): Promise<{ contentType: string; body: string }> {
    await this.collectQueues();
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
