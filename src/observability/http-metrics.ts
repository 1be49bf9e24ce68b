import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * Counters for what happens at the HTTP edge, below any route: clients that went away, and
 * connections refused or cut off. Kept apart from `Metrics` so the server needs only these.
 * @example const http = new HttpMetrics(metrics.registry); http.aborted.inc();
 */
export class HttpMetrics {
  readonly aborted: Counter;
  readonly refused: Counter<'reason'>;
  readonly open: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.aborted = new Counter({
      name: 'faas_http_aborted_total',
      help: 'Requests whose client went away before the request was read (routine, not errors).',
      registers,
    });
    this.refused = new Counter({
      name: 'faas_http_connections_refused_total',
      help: 'Connections closed as they were accepted, by reason (per_source: over FAAS_MAX_CONNECTIONS_PER_SOURCE).',
      labelNames: ['reason'] as const,
      registers,
    });
    this.open = new Gauge({
      name: 'faas_http_connections',
      help: 'Open HTTP connections.',
      registers,
    });
  }
}
