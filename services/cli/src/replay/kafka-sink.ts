import { type ParsedBatch } from '@calwatch/ingest';
import { type KafkaClient, type Producer } from '@calwatch/kafka';
import { DEFAULT_MAX_EVENT_TIME_SKEW_MS, buildTopicNames, isCalwatchError } from '@calwatch/model';
import { retry, type Logger } from '@calwatch/runtime';
import {
  createIngestor,
  createKafkaPublisher,
  createSnapshotCoordinator,
  restoreSnapshotState,
  snapshotStateRestoreRetry,
  screenEvents,
  type IngestResult,
  type Ingestor,
  type ItemKind,
} from '@calwatch/collector';
import { REPLAY_ERRORS } from './errors';
import type { ReplayInput } from './inputs';
import { countRejection, type ItemEntry, type RejectionCount, type ReplaySink, type SendResult } from './sink';
import { readBatches, type ReadOptions } from './sources';

export interface KafkaSinkOptions {
  kafka: KafkaClient;
  /** Prefix of the topics written (a replay namespace's or the live one). */
  topicPrefix: string;
  logger: Logger;
  /** Records per produce request. */
  batchRecords: number;
  now?: () => Date;
  /** Retries of a send Kafka did not take (re-sending is safe: event ids are deterministic). */
  retries?: number;
  signal?: AbortSignal;
}

const EVENTS: ReadonlySet<ItemKind> = new Set<ItemKind>(['event']);
const ISSUED: ReadonlySet<ItemKind> = new Set<ItemKind>(['issued-license']);
const KEYPACKS: ReadonlySet<ItemKind> = new Set<ItemKind>(['keypack']);

/** Items already read, as the one batch the ingestor takes them in. */
async function* oneBatch(items: ParsedBatch): AsyncGenerator<ParsedBatch> {
  if (items.length > 0) yield items;
}

/**
 * The in-process replay path: the collector's own ingestor, snapshot coordinator and
 * Kafka publisher, with the snapshot state of the target topics restored first, so a
 * replayed export is diffed exactly as the collector would diff it.
 */
export function createKafkaSink(options: KafkaSinkOptions): ReplaySink {
  const { kafka } = options;
  const topics = buildTopicNames(options.topicPrefix);
  const logger = options.logger.child({ component: 'replay-sink' });
  const now = options.now ?? (() => new Date());
  let producer: Producer | undefined;
  let ingestor: Ingestor | undefined;
  // Rejections by code of the ingest in progress (sends run one at a time).
  let tally = new Map<string, RejectionCount>();

  function summarise(result: IngestResult, records: number): SendResult {
    const reasons = new Map<string, string>();
    for (const r of result.rejections) if (!reasons.has(r.code)) reasons.set(r.code, r.reason);
    let counted = 0;
    const rejections: RejectionCount[] = [];
    for (const entry of tally.values()) {
      counted += entry.count;
      rejections.push({ ...entry, example: reasons.get(entry.code) ?? entry.example });
    }
    // Derived events that fail the canonical schema are counted by the ingest, not reported one by one.
    if (result.rejected > counted) {
      rejections.push({ code: 'COLLECTOR_INVALID_EVENT', count: result.rejected - counted, example: 'an event derived from a snapshot failed the canonical schema' });
    }
    const stale = result.snapshots.length > 0 && result.snapshots.every((s) => s.stale);
    return { records, accepted: result.accepted, rejected: result.rejected, events: result.events, stale, rejections };
  }

  async function ingestWithRetry(run: (attempt: number) => Promise<IngestResult>, what: string): Promise<IngestResult> {
    try {
      return await retry(
        async (attempt) => {
          tally = new Map();
          return run(attempt);
        },
        {
          retries: options.retries ?? 5,
          minDelayMs: 500,
          maxDelayMs: 10_000,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          onRetry: (error, attempt, delayMs) => logger.warn({ err: error, attempt, delayMs, what }, 'Kafka did not take the records; retrying'),
        },
      );
    } catch (error) {
      const cause = isCalwatchError(error, 'SHARED_RETRY_EXHAUSTED') ? (error.cause ?? error) : error;
      if (isCalwatchError(cause) && cause.code.startsWith('COLLECTOR_')) {
        throw REPLAY_ERRORS.create('REPLAY_PUBLISH_FAILED', `${what}: ${cause.message}`, { cause });
      }
      throw error;
    }
  }

  return {
    target: `kafka:${options.topicPrefix}`,

    async start() {
      producer = await kafka.createProducer({ idempotent: true, compress: true });
      const publisher = createKafkaPublisher({ producer, topics, maxBatchRecords: options.batchRecords });
      const coordinator = createSnapshotCoordinator({ publisher, screen: (events, ref) => screenEvents(events, ref, now().toISOString(), DEFAULT_MAX_EVENT_TIME_SKEW_MS) });
      ingestor = createIngestor({
        publisher,
        snapshots: coordinator,
        batchRecords: options.batchRecords,
        maxReportedRejections: 1_000,
        maxEventTimeSkewMs: DEFAULT_MAX_EVENT_TIME_SKEW_MS,
        now,
        onRecords: (outcome, code, _source, count) => {
          if (outcome === 'rejected') countRejection(tally, code, code, count);
        },
      });
      const admin = await kafka.createAdmin();
      let partitions: number;
      try {
        partitions = await admin.partitionCount(topics.snapshotState);
      } finally {
        await admin.close();
      }
      // Leadership may still be settling right after the topics were created.
      const restored = await restoreSnapshotState({
        kafka,
        topic: topics.snapshotState,
        partitions,
        coordinator,
        logger,
        retry: snapshotStateRestoreRetry(logger),
      });
      logger.info(restored, 'snapshot state restored');
    },

    async sendItems(entries: readonly ItemEntry[]) {
      const active = ingestor;
      if (active === undefined) throw new Error('replay sink not started');
      const items = entries.map((entry) => entry.item);
      const result = await ingestWithRetry(
        () => active.ingest({ batches: oneBatch(items), ref: 'replay', accepts: EVENTS, takenAt: now().toISOString() }),
        `${items.length} records`,
      );
      return summarise(result, items.length);
    },

    async sendSnapshot(input: ReplayInput, read: ReadOptions) {
      const active = ingestor;
      if (active === undefined) throw new Error('replay sink not started');
      const accepts = input.role === 'issued-snapshot' ? ISSUED : KEYPACKS;
      const result = await ingestWithRetry(
        // Bytes are counted once: a retry reads the file again.
        (attempt) => active.ingest({ batches: readBatches(input, attempt === 0 ? read : { ...read, onBytes: undefined }), ref: input.path, accepts, takenAt: input.snapshotTime }),
        input.display,
      );
      const sent = summarise(result, result.accepted + result.rejected);
      // The collector's API refuses an export without rows (400) rather than read it as "every license returned".
      if (result.rows === 0 && result.rejected === 0) {
        sent.rejections.push({ code: 'COLLECTOR_EMPTY_SNAPSHOT', count: 1, example: `${input.display}: the snapshot holds no rows` });
        sent.rejected += 1;
      }
      return sent;
    },

    async close() {
      await producer?.close();
      producer = undefined;
    },
  };
}
