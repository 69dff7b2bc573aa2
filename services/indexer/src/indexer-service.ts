import { type ElasticsearchClient } from '@calwatch/elasticsearch';
import { startGroupLagReader, type Admin, type Consumer, type KafkaClient, type Producer } from '@calwatch/kafka';
import { buildTopicNames, describeRecordLocation, isCalwatchError } from '@calwatch/model';
import {
  createPartitionProgress,
  createProbeServer,
  createReadiness,
  registerPartitionProgressGauges,
  registerReadyGauge,
  type Logger,
  type ProbeServer,
  type Readiness,
  type Service,
} from '@calwatch/runtime';
import { createBatchIndexer, type BatchCounts, type BatchResult, type DeadLetterSink } from './batch-indexer';
import type { InputKind } from './batch-plan';
import { createBulkWriter } from './bulk-writer';
import type { IndexerConfig } from './config';
import { buildDeadLetterRecord } from './dead-letters';
import { checkElasticsearchSetup } from './es-setup';
import { buildIndexNames } from './index-names';
import { createIndexerMetrics, type IndexerMetrics } from './metrics';

export type IndexerState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface IndexerStats extends BatchCounts {
  batches: number;
  retries: number;
}

export interface IndexerService extends Service {
  readonly state: IndexerState;
  stats(): IndexerStats;
  readonly metrics: IndexerMetrics;
  /** Port of /metrics, /healthz and /readyz once started. */
  readonly probePort: number | undefined;
}

export interface IndexerServiceOptions {
  config: IndexerConfig;
  logger: Logger;
  kafka: KafkaClient;
  elasticsearch: ElasticsearchClient;
  /** Called once when the consumer stopped for good on an error (the process should exit non-zero). */
  onFatal?: (error: Error) => void;
  /** Observes each finished batch (benchmarks, tests). */
  onBatch?: (result: BatchResult) => void;
  /** Reasons for not being ready; main shares it with the Kafka client, which reports outages. */
  readiness?: Readiness;
  /** Process metrics in the registry (default true); off in tests and commands that run several services. */
  processMetrics?: boolean;
}

/** Kafka session heartbeats while a batch waits; below the 3 s the consumer is configured with. */
const HEARTBEAT_INTERVAL_MS = 2_000;

/** How often the log ends and the group's committed offsets are read for the lag gauges. */
const LAG_READ_INTERVAL_MS = 5_000;

/**
 * The indexer: consumes the findings and enriched topics and writes them to Elasticsearch.
 * Start: check templates, connect the dead-letter producer, start consuming. Stop (reverse):
 * release waiting batches, stop consuming (the batch in flight finishes or is left
 * uncommitted), close the producer.
 */
export function createIndexerService(options: IndexerServiceOptions): IndexerService {
  const { config, logger, kafka, elasticsearch } = options;
  const topics = buildTopicNames(config.topicPrefix);
  const names = buildIndexNames(config.indexPrefix, config.indexInterval);
  const inputs = new Map<string, InputKind>([
    [topics.findings, 'findings'],
    [topics.enriched, 'enriched'],
    [topics.revocations, 'revocations'],
  ]);
  const stopping = new AbortController();
  const totals: IndexerStats = { batches: 0, records: 0, written: 0, stale: 0, superseded: 0, invalid: 0, rejected: 0, retries: 0 };
  let state: IndexerState = 'new';
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;
  let stopped: Promise<void> | undefined;
  let admin: Admin | undefined;
  let probes: ProbeServer | undefined;
  let probePort: number | undefined;
  let lagReader: { stop(): void } | undefined;
  const readiness = options.readiness ?? createReadiness();
  const isReady = (): boolean => state === 'running' && readiness.isReady();
  const progress = createPartitionProgress();
  const metrics = createIndexerMetrics({ processMetrics: options.processMetrics ?? true });
  registerPartitionProgressGauges(metrics, progress);
  registerReadyGauge(metrics, isReady, '1 while the indexer consumes and no Kafka outage holds it back, else 0 (as /readyz).');

  const deadLetters: DeadLetterSink = {
    async send(drafts) {
      if (producer === undefined) throw new Error('dead-letter producer not connected');
      const at = new Date().toISOString();
      await producer.send(drafts.map((draft) => buildDeadLetterRecord(draft, topics.deadLetter, at)));
      for (const draft of drafts) {
        logger.warn({ code: draft.code, source: describeRecordLocation(draft.record), reason: draft.reason }, 'dead-lettered');
      }
    },
  };

  const indexer = createBatchIndexer({
    sink: createBulkWriter({
      client: elasticsearch,
      flushBytes: config.bulk.flushBytes,
      concurrency: config.bulk.concurrency,
      retries429: config.bulk.retries429,
      wait429Ms: config.bulk.wait429Ms,
    }),
    deadLetters,
    names,
    topics: inputs,
    logger: logger.child({ component: 'batch-indexer' }),
    retry: config.retry,
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    signal: stopping.signal,
  });

  function record(kind: InputKind, result: BatchResult): void {
    const index = { index: kind };
    metrics.batches.inc(index);
    metrics.documents.inc({ ...index, outcome: 'written' }, result.written);
    metrics.documents.inc({ ...index, outcome: 'stale' }, result.stale);
    metrics.documents.inc({ ...index, outcome: 'superseded' }, result.superseded);
    metrics.deadLetters.inc({ ...index, reason: 'invalid' }, result.invalid);
    metrics.deadLetters.inc({ ...index, reason: 'rejected' }, result.rejected);
    metrics.bulkRetries.inc(index, Math.max(0, result.attempts - 1));
    totals.batches++;
    totals.records += result.records;
    totals.written += result.written;
    totals.stale += result.stale;
    totals.superseded += result.superseded;
    totals.invalid += result.invalid;
    totals.rejected += result.rejected;
    totals.retries += Math.max(0, result.attempts - 1);
    options.onBatch?.(result);
  }

  return {
    get state() {
      return state;
    },
    stats: () => ({ ...totals }),
    metrics,
    get probePort() {
      return probePort;
    },
    async start(): Promise<void> {
      if (state !== 'new') throw new Error(`indexer cannot start from state ${state}`);
      state = 'starting';
      try {
        // Probes first: /healthz answers and /readyz says no while the rest starts.
        probes = createProbeServer({
          port: config.metricsPort,
          metrics: metrics.registry,
          readiness: () => ({ ready: isReady(), reasons: { state, ...readiness.reasons() } }),
        });
        probePort = await probes.start();
        if (config.requireSetup) await checkElasticsearchSetup(elasticsearch, names);
        producer = await kafka.createProducer();
        admin = await kafka.createAdmin();
        consumer = kafka.createConsumer({
          groupId: config.groupId,
          maxBytesPerPartition: config.maxBytesPerPartition,
          maxWaitTimeMs: config.fetchMaxWaitMs,
        });
        await consumer.start({
          topics: [...inputs.keys()],
          fromBeginning: true,
          partitionsConsumedConcurrently: config.partitionsConcurrency,
          onAssignment: (assigned) => progress.assign(assigned),
          eachBatch: async (records, context) => {
            const kind = inputs.get(context.topic)!;
            const where = { topic: context.topic, partition: context.partition, firstOffset: records[0]?.offset, count: records.length };
            let result: BatchResult;
            try {
              result = await indexer.index(records, { heartbeat: context.heartbeat, isStale: context.isStale });
            } catch (error) {
              // Not committed: the consumer re-delivers the batch (after a rejoin or a restart).
              if (isCalwatchError(error, 'INDEXER_STOPPED')) logger.info(where, 'batch left uncommitted at shutdown');
              else {
                metrics.batchFailures.inc({ index: kind, code: isCalwatchError(error) ? error.code : 'unknown' });
                logger.error({ err: error, ...where }, 'batch failed, not committed');
              }
              throw error;
            }
            record(kind, result);
            const last = records.at(-1);
            if (last !== undefined && !result.abandoned) progress.batchHandled(context.topic, context.partition, BigInt(last.offset) + 1n, BigInt(context.highWatermark));
            logger.debug({ ...where, ...result }, 'batch indexed');
          },
          onCrash: (error) => {
            if (state === 'stopping' || state === 'stopped') return;
            state = 'failed';
            logger.error({ err: error }, 'consumer stopped on an error');
            options.onFatal?.(error);
          },
        });
        lagReader = startGroupLagReader({
          admin,
          groupId: config.groupId,
          fromBeginning: true,
          topics: [...inputs.keys()],
          progress,
          intervalMs: LAG_READ_INTERVAL_MS,
          onError: (error) => logger.debug({ err: error }, 'could not read offsets for the lag gauges'),
        });
        state = 'running';
        logger.info({ topics: [...inputs.keys()], findingsIndex: names.findingsIndex, enrichedAlias: names.enrichedAlias, probePort }, 'indexer consuming');
      } catch (error) {
        state = 'failed';
        await producer?.close().catch(() => undefined);
        await admin?.close().catch(() => undefined);
        await probes?.stop().catch(() => undefined);
        throw error;
      }
    },
    stop(): Promise<void> {
      stopped ??= (async () => {
        state = 'stopping';
        lagReader?.stop();
        // Waiting batches give up (uncommitted, re-delivered later); a healthy one finishes.
        stopping.abort();
        try {
          await consumer?.stop();
        } finally {
          await producer?.close();
          await admin?.close();
          await probes?.stop();
          state = 'stopped';
          logger.info({ ...totals }, 'indexer stopped');
        }
      })();
      return stopped;
    },
  };
}
