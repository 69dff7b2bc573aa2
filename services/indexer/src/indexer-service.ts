import { type ElasticsearchClient } from '@calwatch/elasticsearch';
import { type Consumer, type KafkaClient, type Producer } from '@calwatch/kafka';
import { buildTopicNames, describeRecordLocation, isCalwatchError } from '@calwatch/model';
import { type Logger, type Service } from '@calwatch/runtime';
import { createBatchIndexer, type BatchCounts, type BatchResult, type DeadLetterSink } from './batch-indexer';
import type { InputKind } from './batch-plan';
import { createBulkWriter } from './bulk-writer';
import type { IndexerConfig } from './config';
import { buildDeadLetterRecord } from './dead-letters';
import { checkElasticsearchSetup } from './es-setup';
import { buildIndexNames } from './index-names';

export type IndexerState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface IndexerStats extends BatchCounts {
  batches: number;
  retries: number;
}

export interface IndexerService extends Service {
  readonly state: IndexerState;
  stats(): IndexerStats;
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
}

/** Kafka session heartbeats while a batch waits; below the 3 s the consumer is configured with. */
const HEARTBEAT_INTERVAL_MS = 2_000;

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

  function record(result: BatchResult): void {
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
    async start(): Promise<void> {
      if (state !== 'new') throw new Error(`indexer cannot start from state ${state}`);
      state = 'starting';
      try {
        if (config.requireSetup) await checkElasticsearchSetup(elasticsearch, names);
        producer = await kafka.createProducer();
        consumer = kafka.createConsumer({
          groupId: config.groupId,
          maxBytesPerPartition: config.maxBytesPerPartition,
          maxWaitTimeMs: config.fetchMaxWaitMs,
        });
        await consumer.start({
          topics: [...inputs.keys()],
          fromBeginning: true,
          partitionsConsumedConcurrently: config.partitionsConcurrency,
          eachBatch: async (records, context) => {
            const where = { topic: context.topic, partition: context.partition, firstOffset: records[0]?.offset, count: records.length };
            let result: BatchResult;
            try {
              result = await indexer.index(records, { heartbeat: context.heartbeat, isStale: context.isStale });
            } catch (error) {
              // Not committed: the consumer re-delivers the batch (after a rejoin or a restart).
              if (isCalwatchError(error, 'INDEXER_STOPPED')) logger.info(where, 'batch left uncommitted at shutdown');
              else logger.error({ err: error, ...where }, 'batch failed, not committed');
              throw error;
            }
            record(result);
            logger.debug({ ...where, ...result }, 'batch indexed');
          },
          onCrash: (error) => {
            if (state === 'stopping' || state === 'stopped') return;
            state = 'failed';
            logger.error({ err: error }, 'consumer stopped on an error');
            options.onFatal?.(error);
          },
        });
        state = 'running';
        logger.info({ topics: [...inputs.keys()], findingsIndex: names.findingsIndex, enrichedAlias: names.enrichedAlias }, 'indexer consuming');
      } catch (error) {
        state = 'failed';
        await producer?.close().catch(() => undefined);
        throw error;
      }
    },
    stop(): Promise<void> {
      stopped ??= (async () => {
        state = 'stopping';
        // Waiting batches give up (uncommitted, re-delivered later); a healthy one finishes.
        stopping.abort();
        try {
          await consumer?.stop();
        } finally {
          await producer?.close();
          state = 'stopped';
          logger.info({ ...totals }, 'indexer stopped');
        }
      })();
      return stopped;
    },
  };
}
