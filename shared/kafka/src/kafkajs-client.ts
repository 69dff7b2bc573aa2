import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import kafkajs, { type Consumer as KafkajsConsumer, type KafkaMessage, type SASLOptions } from 'kafkajs';
import type { KafkaCompression, KafkaConnection } from '@calwatch/runtime';
import { CalwatchError, SHARED_ERRORS } from '@calwatch/model';
import { DEFAULT_KAFKA_COMPRESSION, backoffDelayMs, isProgrammingError, retry } from '@calwatch/runtime';
import type { Logger } from '@calwatch/runtime';
import type { Readiness } from '@calwatch/runtime';
import { buildKafkaError } from './kafka-error';
import { DEFAULT_OUTAGE_BACKOFF, DEFAULT_OUTAGE_BUDGET_MS, sendPlanned } from './outage';
import { DEFAULT_MAX_RECORD_BYTES } from '@calwatch/model';
import { createKafkajsLogCreator, kafkajsLevelFor } from './kafkajs-log';
import type {
  Admin,
  Consumer,
  ConsumeOptions,
  ConsumerOptions,
  IncomingRecord,
  KafkaClient,
  OutgoingRecord,
  PartitionReader,
  Producer,
  ProducerOptions,
  TopicPartition,
  TopicPartitionOffset,
} from './types';

/** Request timeout, connection timeout and client-level retries when KafkaClientOptions leaves them out, for either library. */
export const CLIENT_DEFAULTS = { requestTimeoutMs: 30_000, connectionTimeoutMs: 3_000, retries: 8 } as const;

export interface KafkaClientOptions {
  connection: KafkaConnection;
  logger: Logger;
  /** Per-request timeout; kafkajs's default is 30 s. */
  requestTimeoutMs?: number;
  /** How long a connection attempt may take. */
  connectionTimeoutMs?: number;
  /** Client-level retries of a failed request; 0 for probes that must answer fast. */
  retries?: number;
  /** Told while an outage is ridden out or a consumer is down (readiness false). */
  readiness?: Readiness;
  /** Backoff of the adapter's own retries of sends and consumer restarts; tests pass small ones. */
  outageBackoff?: { minDelayMs: number; maxDelayMs: number };
}

// kafkajs is CommonJS: Node's ESM loader only sees some of its names, so take them from the default export.
const { CompressionTypes, Kafka, KafkaJSError } = kafkajs;

/**
 * Whether waiting can fix a kafkajs failure. Its retrier wraps the last error in
 * KafkaJSNumberOfRetriesExceeded, which says "not retriable" even when the broker was only
 * unreachable (a request timeout): the innermost cause decides, as kafkajs's own consumer
 * restart does. Plain errors ("Broker not connected") are connection trouble.
 */
function isRetriableKafkaFailure(error: unknown): boolean {
  let innermost = error;
  while (innermost instanceof Error && innermost.cause instanceof Error) innermost = innermost.cause;
  if (isProgrammingError(innermost)) return false;
  return innermost instanceof KafkaJSError ? innermost.retriable : true;
}

/** Converts a kafkajs failure to a coded error, keeping its retriable verdict. */
export function toKafkaError(error: unknown, action: string): CalwatchError {
  if (error instanceof CalwatchError) return error;
  return buildKafkaError(error, action, isRetriableKafkaFailure(error));
}

/**
 * Metadata reads right after a topic was created can meet a partition whose leader the
 * broker has not settled yet (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION): kafkajs
 * marks those retriable but its admin does not retry them, so the adapter does.
 */
function retryMetadataRead<T>(read: () => Promise<T>): Promise<T> {
  return retry(read, {
    retries: 8,
    minDelayMs: 100,
    maxDelayMs: 2_000,
    isRetriable: (error) => error instanceof KafkaJSError && error.retriable,
  });
}

function toIncoming(topic: string, partition: number, message: KafkaMessage): IncomingRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? String(value[0] ?? '') : String(value);
  }
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key === null ? null : message.key.toString('utf8'),
    value: message.value,
    headers,
    timestamp: message.timestamp,
  };
}

function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

function parseAssignment(memberAssignment: Record<string, number[]>): TopicPartition[] {
  const assigned: TopicPartition[] = [];
  for (const [topic, partitions] of Object.entries(memberAssignment)) {
    for (const partition of partitions) assigned.push({ topic, partition });
  }
  return assigned.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/**
 * Waits for `gate` (e.g. a state restore in onAssignment) while keeping the group session
 * alive: kafkajs only heartbeats between batches, and a long restore must not cost the
 * member its partitions.
 */
async function untilSettled(gate: Promise<void>, heartbeat: () => Promise<void>, intervalMs: number): Promise<void> {
  let settled = false;
  const done = gate.finally(() => {
    settled = true;
  });
  while (!settled) {
    const tick = new Promise<void>((resolve) => setTimeout(resolve, intervalMs).unref());
    await Promise.race([done, tick]);
    if (!settled) await heartbeat();
  }
  await done;
}

/**
 * kafkajs's `ssl` from the connection: the files are read once here, so an unreadable
 * CA or key stops the service at start with SHARED_CONFIG_INVALID naming the file.
 */
export function buildKafkaTlsOptions(ssl: KafkaConnection['ssl'], readFile: (path: string) => Buffer = readFileSync): boolean | ConnectionOptions {
  if (typeof ssl === 'boolean') return ssl;
  const read = (variable: string, path: string): Buffer => {
    try {
      return readFile(path);
    } catch (error) {
      throw SHARED_ERRORS.create('SHARED_CONFIG_INVALID', `invalid configuration:\n  ${variable}: cannot read ${path}`, { cause: error, context: { variable, path } });
    }
  };
  return {
    rejectUnauthorized: true,
    ...(ssl.caFile === undefined ? {} : { ca: [read('KAFKA_SSL_CA_FILE', ssl.caFile)] }),
    ...(ssl.certFile === undefined ? {} : { cert: read('KAFKA_SSL_CERT_FILE', ssl.certFile) }),
    ...(ssl.keyFile === undefined ? {} : { key: read('KAFKA_SSL_KEY_FILE', ssl.keyFile) }),
    ...(ssl.keyPassphrase === undefined ? {} : { passphrase: ssl.keyPassphrase }),
  };
}

/** Built-in kafkajs codecs: anything else needs a codec registered by hand, which calwatch does not do. */
const KAFKAJS_CODECS: Partial<Record<KafkaCompression, (typeof CompressionTypes)[keyof typeof CompressionTypes]>> = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP };

/** The kafkajs implementation of calwatch's Kafka interfaces. */
export function createKafkajsClient(options: KafkaClientOptions): KafkaClient {
  const { connection, logger, readiness } = options;
  const configured = connection.compression ?? DEFAULT_KAFKA_COMPRESSION;
  const codec = KAFKAJS_CODECS[configured];
  if (codec === undefined) {
    throw SHARED_ERRORS.create('SHARED_CONFIG_INVALID', `invalid configuration:\n  KAFKA_COMPRESSION: kafkajs has no built-in ${configured} codec: use none or gzip, or set KAFKA_CLIENT=platformatic`, {
      context: { variable: 'KAFKA_COMPRESSION', compression: configured },
    });
  }
  const maxRecordBytes = connection.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const outageBudgetMs = connection.outageBudgetMs ?? DEFAULT_OUTAGE_BUDGET_MS;
  const backoff = options.outageBackoff ?? DEFAULT_OUTAGE_BACKOFF;
  let producers = 0;
  const sasl: SASLOptions | undefined = connection.sasl === undefined
    ? undefined
    : ({ mechanism: connection.sasl.mechanism, username: connection.sasl.username, password: connection.sasl.password } as SASLOptions);
  const kafka = new Kafka({
    clientId: connection.clientId,
    brokers: connection.brokers,
    ssl: buildKafkaTlsOptions(connection.ssl),
    ...(sasl === undefined ? {} : { sasl }),
    requestTimeout: options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs,
    connectionTimeout: options.connectionTimeoutMs ?? CLIENT_DEFAULTS.connectionTimeoutMs,
    logLevel: kafkajsLevelFor(logger),
    logCreator: createKafkajsLogCreator(logger),
    retry: { retries: options.retries ?? CLIENT_DEFAULTS.retries, initialRetryTime: 200, maxRetryTime: 10_000 },
  });

  async function createProducer(producerOptions: ProducerOptions = {}): Promise<Producer> {
    const idempotent = producerOptions.idempotent ?? true;
    const compression = (producerOptions.compress ?? true) ? codec : CompressionTypes.None;
    const reason = `kafka producer ${++producers}`;
    const budgetMs = producerOptions.outageBudgetMs ?? outageBudgetMs;
    const make = () =>
      kafka.producer({
        idempotent,
        // The idempotent producer keeps order with one request in flight per broker.
        maxInFlightRequests: idempotent ? 1 : 5,
        allowAutoTopicCreation: false,
      });
    let producer = make();
    try {
      await producer.connect();
    } catch (error) {
      throw toKafkaError(error, 'connect producer');
    }
    // After a failed send the idempotent producer's sequence numbers may no longer match the
    // broker's (OUT_OF_ORDER_SEQUENCE_NUMBER on every later send): the next send starts a new one.
    let broken = false;
    let closed = false;
    const closing = new AbortController();

    async function renew(): Promise<void> {
      const old = producer;
      producer = make();
      await old.disconnect().catch(() => undefined);
      try {
        await producer.connect();
      } catch (error) {
        throw toKafkaError(error, 'reconnect producer');
      }
      broken = false;
      logger.info({ reason }, 'producer recreated after a failed send');
    }

    async function sendRun(run: readonly OutgoingRecord[]): Promise<void> {
      if (broken) await renew();
      const byTopic = new Map<string, OutgoingRecord[]>();
      for (const record of run) {
        const list = byTopic.get(record.topic);
        if (list === undefined) byTopic.set(record.topic, [record]);
        else list.push(record);
      }
      try {
        await producer.sendBatch({
          acks: -1,
          compression,
          topicMessages: [...byTopic].map(([topic, list]) => ({
            topic,
            messages: list.map((record) => ({
              key: record.key,
              value: record.value,
              ...(record.headers === undefined ? {} : { headers: record.headers }),
              ...(record.partition === undefined ? {} : { partition: record.partition }),
            })),
          })),
        });
      } catch (error) {
        broken = true;
        throw toKafkaError(error, 'produce');
      }
    }

    return {
      send(records: readonly OutgoingRecord[]): Promise<void> {
        return sendPlanned(records, sendRun, { maxRecordBytes, budgetMs, backoff, signal: closing.signal, readiness, reason, logger });
      },
      async close(): Promise<void> {
        if (closed) return;
        closed = true;
        closing.abort(SHARED_ERRORS.create('SHARED_KAFKA_UNAVAILABLE', 'producer closed while a send was retried'));
        readiness?.set(reason, undefined);
        await producer.disconnect();
      },
    };
  }

  function createConsumer(consumerOptions: ConsumerOptions): Consumer {
    const groupId = consumerOptions.groupId;
    const reason = `kafka consumer ${groupId}`;
    let consumer: KafkajsConsumer | undefined;
    let consume: ConsumeOptions | undefined;
    let stopping: Promise<void> | undefined;
    let relaunch: NodeJS.Timeout | undefined;
    let relaunches = 0;
    // An outage: since when the consumer fails without progress. Progress (a committed batch,
    // or a fetch while no batch is failing) ends it.
    let failingSince: number | undefined;
    let batchFailing = false;

    function recovered(): void {
      relaunches = 0;
      if (failingSince === undefined) return;
      failingSince = undefined;
      readiness?.set(reason, undefined);
      logger.info({ groupId }, 'consumer recovered');
    }

    /** The end: readiness false and the owner told, once. */
    function giveUp(error: Error): void {
      if (stopping !== undefined) return;
      readiness?.set(reason, `stopped: ${error.message}`);
      consume?.onCrash?.(error);
    }

    /** Still within the outage budget? Otherwise gives up with SHARED_KAFKA_OUTAGE_EXCEEDED. */
    function withinBudget(error: Error): boolean {
      failingSince ??= Date.now();
      const failingForMs = Date.now() - failingSince;
      readiness?.set(reason, `restarting after: ${error.message}`);
      if (failingForMs < outageBudgetMs) {
        logger.warn({ err: error, groupId, failingForMs }, 'consumer restarting within the outage budget');
        return true;
      }
      giveUp(
        SHARED_ERRORS.create('SHARED_KAFKA_OUTAGE_EXCEEDED', `consumer ${groupId} made no progress for ${failingForMs} ms (budget ${outageBudgetMs} ms): ${error.message}`, {
          cause: error,
          context: { groupId, failingForMs, outageBudgetMs },
        }),
      );
      return false;
    }

    /**
     * kafkajs gives up on some broker-side errors for good (a member the coordinator forgot
     * after a stall, on a commit): the adapter starts a new consumer in the same group.
     */
    function scheduleRelaunch(error: Error): void {
      if (stopping !== undefined || !withinBudget(error)) return;
      const delayMs = backoffDelayMs(relaunches++, { retries: Infinity, ...backoff });
      relaunch = setTimeout(() => {
        relaunch = undefined;
        if (stopping !== undefined) return;
        launch().catch((failure: unknown) => scheduleRelaunch(toKafkaError(failure, 'restart consumer')));
      }, delayMs);
    }

    async function launch(): Promise<void> {
      const options = consume!;
      const current = kafka.consumer({
        groupId,
        sessionTimeout: consumerOptions.sessionTimeoutMs ?? 30_000,
        heartbeatInterval: consumerOptions.heartbeatIntervalMs ?? 3_000,
        maxBytesPerPartition: consumerOptions.maxBytesPerPartition ?? 1_048_576,
        maxWaitTimeInMs: consumerOptions.maxWaitTimeMs ?? 500,
        allowAutoTopicCreation: false,
      });
      consumer = current;
      // A batch of a new assignment waits until onAssignment (e.g. state restore) is done.
      let assignmentGate: Promise<void> = Promise.resolve();
      current.on(current.events.GROUP_JOIN, (event) => {
        const assigned = parseAssignment(event.payload.memberAssignment);
        const hook = options.onAssignment;
        assignmentGate = hook === undefined ? Promise.resolve() : Promise.resolve().then(() => hook(assigned));
        // Surface a failed hook in the batch that awaits it, not as an unhandled rejection here.
        assignmentGate.catch(() => undefined);
      });
      current.on(current.events.REBALANCING, () => options.onRebalance?.());
      current.on(current.events.FETCH, () => {
        if (!batchFailing) recovered();
      });
      current.on(current.events.CRASH, (event) => {
        const error = event.payload.error;
        if (event.payload.restart) {
          // kafkajs restarts it; past the budget, stop it once its restart timer is armed (right after this event).
          if (!withinBudget(error)) {
            setImmediate(() => {
              current.disconnect().catch(() => undefined);
            });
          }
          return;
        }
        // A batch handler that failed for good is the owner's problem: report it, no restart.
        if (batchFailing) giveUp(error);
        else scheduleRelaunch(error);
      });
      try {
        await current.connect();
        await current.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning ?? false });
      } catch (error) {
        await current.disconnect().catch(() => undefined);
        throw toKafkaError(error, 'start consumer');
      }
      batchFailing = false;
      const autoCommit = options.autoCommit ?? true;
      await current.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
        eachBatch: async ({ batch, heartbeat, isStale, resolveOffset }) => {
          await untilSettled(assignmentGate, heartbeat, consumerOptions.heartbeatIntervalMs ?? 3_000);
          if (batch.isEmpty() || isStale()) return;
          const records = batch.messages.map((message) => toIncoming(batch.topic, batch.partition, message));
          try {
            await options.eachBatch(records, {
              topic: batch.topic,
              partition: batch.partition,
              highWatermark: batch.highWatermark,
              heartbeat,
              isStale,
            });
          } catch (error) {
            batchFailing = true;
            // Loud and located: kafkajs retries the batch, then crashes or restarts the consumer.
            logger.error({ err: error, topic: batch.topic, partition: batch.partition, offset: batch.firstOffset(), groupId }, 'batch failed; it is delivered again');
            throw error;
          }
          batchFailing = false;
          if (isStale()) return;
          const last = batch.lastOffset();
          resolveOffset(last);
          if (autoCommit) await current.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: nextOffset(last) }]);
          recovered();
        },
      });
    }

    return {
      async start(options: ConsumeOptions): Promise<void> {
        if (consume !== undefined) throw new Error('consumer already started');
        consume = options;
        await launch();
      },
      pause(partitions: readonly TopicPartition[]): void {
        consumer?.pause(partitions.map((p) => ({ topic: p.topic, partitions: [p.partition] })));
      },
      resume(partitions: readonly TopicPartition[]): void {
        consumer?.resume(partitions.map((p) => ({ topic: p.topic, partitions: [p.partition] })));
      },
      async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
        if (offsets.length === 0) return;
        if (consumer === undefined) throw SHARED_ERRORS.create('SHARED_KAFKA_UNAVAILABLE', `consumer ${groupId} is not running: nothing to commit with`);
        try {
          await consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })));
        } catch (error) {
          throw toKafkaError(error, 'commit offsets');
        }
      },
      seek(position: TopicPartitionOffset): void {
        consumer?.seek({ topic: position.topic, partition: position.partition, offset: position.offset });
      },
      stop(): Promise<void> {
        stopping ??= (async () => {
          clearTimeout(relaunch);
          readiness?.set(reason, undefined);
          await consumer?.disconnect();
        })();
        return stopping;
      },
    };
  }

  async function createAdmin(): Promise<Admin> {
    const admin = kafka.admin();
    try {
      await admin.connect();
    } catch (error) {
      throw toKafkaError(error, 'connect admin');
    }
    let closed = false;
    return {
      async ensureTopics(specs): Promise<void> {
        const existing = new Set(await admin.listTopics());
        const missing = specs.filter((spec) => !existing.has(spec.topic));
        if (missing.length === 0) return;
        try {
          await admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((spec) => ({
              topic: spec.topic,
              numPartitions: spec.numPartitions,
              configEntries: [
                { name: 'cleanup.policy', value: spec.compacted ? 'compact' : 'delete' },
                // A compacted state topic rolls hourly so the cleaner can reach its older writes:
                // a restore then reads about one record per key, not every write since creation.
                ...(spec.compacted ? [{ name: 'segment.ms', value: '3600000' }, { name: 'min.cleanable.dirty.ratio', value: '0.2' }] : []),
                ...(spec.retentionMs === undefined ? [] : [{ name: 'retention.ms', value: String(spec.retentionMs) }]),
                ...(spec.maxMessageBytes === undefined ? [] : [{ name: 'max.message.bytes', value: String(spec.maxMessageBytes) }]),
              ],
            })),
          });
        } catch (error) {
          // Another instance may have created them meanwhile: only a real absence is an error.
          const after = new Set(await admin.listTopics());
          if (missing.some((spec) => !after.has(spec.topic))) throw toKafkaError(error, 'create topics');
        }
      },
      async deleteTopics(topics): Promise<void> {
        if (topics.length > 0) await admin.deleteTopics({ topics: [...topics] });
      },
      listTopics: () => admin.listTopics(),
      async describeCluster() {
        const cluster = await admin.describeCluster();
        return { brokers: cluster.brokers.length, controllerId: cluster.controller ?? null };
      },
      async partitionCount(topic): Promise<number> {
        const metadata = await retryMetadataRead(() => admin.fetchTopicMetadata({ topics: [topic] }));
        return metadata.topics[0]?.partitions.length ?? 0;
      },
      async endOffsets(topic): Promise<TopicPartitionOffset[]> {
        const offsets = await retryMetadataRead(() => admin.fetchTopicOffsets(topic));
        return offsets.map((o) => ({ topic, partition: o.partition, offset: o.high })).sort((a, b) => a.partition - b.partition);
      },
      async startOffsets(topic): Promise<TopicPartitionOffset[]> {
        const offsets = await retryMetadataRead(() => admin.fetchTopicOffsets(topic));
        return offsets.map((o) => ({ topic, partition: o.partition, offset: o.low })).sort((a, b) => a.partition - b.partition);
      },
      async committedOffsets(groupId, topic): Promise<TopicPartitionOffset[]> {
        const result = await retryMetadataRead(() => admin.fetchOffsets({ groupId, topics: [topic] }));
        return (result[0]?.partitions ?? [])
          .map((p) => ({ topic, partition: p.partition, offset: p.offset }))
          .sort((a, b) => a.partition - b.partition);
      },
      async close(): Promise<void> {
        if (closed) return;
        closed = true;
        await admin.disconnect();
      },
    };
  }

  function createPartitionReader(): PartitionReader {
    return {
      async readToEnd(topic, partitions, onRecords): Promise<{ records: number }> {
        if (partitions.length === 0) return { records: 0 };
        const admin = kafka.admin();
        await admin.connect();
        try {
          const offsets = await retryMetadataRead(() => admin.fetchTopicOffsets(topic));
          // The end each partition had when the read began; later writes are not restore's business.
          const remaining = new Map<number, bigint>();
          for (const o of offsets) {
            if (partitions.includes(o.partition) && BigInt(o.high) > BigInt(o.low)) remaining.set(o.partition, BigInt(o.high));
          }
          if (remaining.size === 0) return { records: 0 };
          // kafkajs has no manual assignment: a throw-away group owns every partition and
          // the ones not asked for are skipped.
          const groupId = `calwatch-restore-${randomUUID()}`;
          const reader = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
          let count = 0;
          try {
            await reader.connect();
            await reader.subscribe({ topics: [topic], fromBeginning: true });
            await new Promise<void>((resolve, reject) => {
              reader.on(reader.events.CRASH, (event) => reject(event.payload.error));
              reader
                .run({
                  autoCommit: false,
                  eachBatch: async ({ batch }) => {
                    const end = remaining.get(batch.partition);
                    if (end === undefined) return;
                    const wanted = batch.messages.filter((m) => BigInt(m.offset) < end);
                    if (wanted.length > 0) {
                      count += wanted.length;
                      await onRecords(wanted.map((m) => toIncoming(topic, batch.partition, m)));
                    }
                    if (BigInt(batch.lastOffset()) + 1n >= end) {
                      remaining.delete(batch.partition);
                      if (remaining.size === 0) resolve();
                    }
                  },
                })
                .catch(reject);
            });
          } finally {
            await reader.disconnect();
            await admin.deleteGroups([groupId]).catch(() => undefined);
          }
          return { records: count };
        } finally {
          await admin.disconnect();
        }
      },
    };
  }

  return { createProducer, createConsumer, createAdmin, createPartitionReader };
}
