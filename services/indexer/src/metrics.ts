import { createServiceMetrics, type ServiceMetricsOptions } from '@calwatch/runtime';
import { Counter, type Registry } from 'prom-client';

/** The index family (findings, enriched, revocations): index names carry a prefix and a month. */
type IndexLabel = 'index';

/** The indexer's Prometheus metrics, in a registry of its own (no global default registry). */
export interface IndexerMetrics {
  registry: Registry;
  /** `calwatch_indexer_`. */
  prefix: string;
  batches: Counter<IndexLabel>;
  documents: Counter<IndexLabel | 'outcome'>;
  deadLetters: Counter<IndexLabel | 'reason'>;
  bulkRetries: Counter<IndexLabel>;
  batchFailures: Counter<IndexLabel | 'code'>;
}

export function createIndexerMetrics(options: ServiceMetricsOptions = {}): IndexerMetrics {
  const { registry, prefix } = createServiceMetrics('indexer', options);
  return {
    registry,
    prefix,
    batches: new Counter({
      name: `${prefix}batches_total`,
      help: 'Consumer batches indexed and committed, by index family (findings, enriched, revocations).',
      labelNames: ['index'],
      registers: [registry],
    }),
    documents: new Counter({
      name: `${prefix}documents_total`,
      help: 'Records of indexed batches by index family and outcome: written, stale (Elasticsearch holds a newer version), superseded (a later record of the batch replaced it).',
      labelNames: ['index', 'outcome'],
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: `${prefix}dead_letters_total`,
      help: 'Records sent to the dead-letter topic by index family and reason: invalid (failed decoding) or rejected (refused for good by Elasticsearch).',
      labelNames: ['index', 'reason'],
      registers: [registry],
    }),
    bulkRetries: new Counter({
      name: `${prefix}bulk_retries_total`,
      help: 'Bulk runs retried after Elasticsearch failed them or refused documents retriably, by index family.',
      labelNames: ['index'],
      registers: [registry],
    }),
    batchFailures: new Counter({
      name: `${prefix}batch_failures_total`,
      help: 'Batches that failed and were left uncommitted (re-delivered), by index family and error code.',
      labelNames: ['index', 'code'],
      registers: [registry],
    }),
  };
}
