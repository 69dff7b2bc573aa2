import { createServiceMetrics } from '@calwatch/runtime';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The collector's Prometheus metrics, in a registry of its own (no global state). */
export interface CollectorMetrics {
  registry: Registry;
  requests: Counter<'route' | 'status'>;
  records: Counter<'outcome' | 'code' | 'source'>;
  publishSeconds: Histogram;
  inFlightRequests: Gauge;
  inFlightBytes: Gauge;
  snapshots: Counter<'kind' | 'outcome'>;
  dropFiles: Counter<'outcome'>;
  authFailures: Counter<'reason'>;
}

export function createCollectorMetrics(options: { defaultMetrics?: boolean } = {}): CollectorMetrics {
  const { registry, prefix } = createServiceMetrics('collector', { processMetrics: options.defaultMetrics ?? true });
  return {
    registry,
    requests: new Counter({
      name: `${prefix}http_requests_total`,
      help: 'HTTP requests by route and status code.',
      labelNames: ['route', 'status'] as const,
      registers: [registry],
    }),
    records: new Counter({
      name: `${prefix}records_total`,
      help: 'Records read, by outcome (accepted/rejected), code (OK or the rejection code) and source format.',
      labelNames: ['outcome', 'code', 'source'] as const,
      registers: [registry],
    }),
    publishSeconds: new Histogram({
      name: `${prefix}publish_duration_seconds`,
      help: 'Time for Kafka to acknowledge one produce request.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    inFlightRequests: new Gauge({
      name: `${prefix}in_flight_requests`,
      help: 'Ingest requests being read and published.',
      registers: [registry],
    }),
    inFlightBytes: new Gauge({
      name: `${prefix}in_flight_bytes`,
      help: 'Declared body bytes of the ingest requests being processed.',
      registers: [registry],
    }),
    snapshots: new Counter({
      name: `${prefix}snapshots_total`,
      help: 'Snapshots applied, by kind and outcome (applied, partial, stale).',
      labelNames: ['kind', 'outcome'] as const,
      registers: [registry],
    }),
    dropFiles: new Counter({
      name: `${prefix}drop_files_total`,
      help: 'Drop-folder files by outcome (done, failed, retry).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    authFailures: new Counter({
      name: `${prefix}auth_failures_total`,
      help: 'Refused authentications by reason (missing, invalid, forbidden: token not scoped to the license server, rate-limited).',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}
