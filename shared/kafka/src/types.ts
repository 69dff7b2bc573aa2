/**
 * calwatch's view of Kafka. Services depend on these interfaces only; the
 * implementations live beside them (kafkajs, and @platformatic/kafka for the producer and
 * the partition reader when KAFKA_CLIENT=platformatic), so a change of client library
 * touches this folder alone.
 */

export interface OutgoingRecord {
  topic: string;
  /** null only for records with no natural key (rare: everything calwatch writes is keyed). */
  key: string | null;
  /** null is a tombstone (deletes the key from a compacted topic). */
  value: Buffer | string | null;
  headers?: Record<string, string>;
  /** Pins the partition, e.g. a changelog record beside its input partition. */
  partition?: number;
}

export interface IncomingRecord {
  topic: string;
  partition: number;
  /** Decimal string: Kafka offsets exceed 2^53. */
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** Milliseconds since the epoch, as a decimal string. */
  timestamp: string;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  offset: string;
}

export interface Producer {
  /**
   * Resolves once the broker acknowledged every record (acks=all). A record over its
   * topic's size limit fails the whole send before anything is written
   * (SHARED_KAFKA_RECORD_TOO_LARGE). Retriable failures are retried, with a new producer,
   * for up to the outage budget (SHARED_KAFKA_OUTAGE_EXCEEDED after it); a retried send may
   * write some records twice.
   */
  send(records: readonly OutgoingRecord[]): Promise<void>;
  close(): Promise<void>;
}

export interface ProducerOptions {
  /** Idempotent producer: retries never duplicate a record within a session. Default true. */
  idempotent?: boolean;
  /** Compress batches with the client's KAFKA_COMPRESSION (none by default); false sends them uncompressed. Default true. */
  compress?: boolean;
  /**
   * How long a send rides out an outage; the client's KAFKA_OUTAGE_BUDGET_MS by default. 0
   * fails a send at its first retriable failure, for callers with their own back-pressure
   * (the collector answers 503 rather than hold an HTTP request for minutes).
   */
  outageBudgetMs?: number;
}

export interface BatchContext {
  topic: string;
  partition: number;
  highWatermark: string;
  /** Keeps the group session alive during long batches. */
  heartbeat(): Promise<void>;
  /** True when a rebalance took the partition away: stop work on this batch. */
  isStale(): boolean;
}

export interface ConsumeOptions {
  topics: readonly string[];
  fromBeginning?: boolean;
  /**
   * Handles one batch of one partition. Only when this resolves does the consumer move past
   * the batch (and, with autoCommit, commit the offset after its last record): a failure
   * re-delivers the batch (at-least-once).
   */
  eachBatch(records: readonly IncomingRecord[], context: BatchContext): Promise<void>;
  /**
   * true (the default): the offset after each handled batch is committed before the next
   * batch of its partition. false: the consumer moves on without committing, and the owner
   * commits with Consumer.commit when what it did with the records is durable (a stream
   * processor's changelog flush); after a failure it rewinds with Consumer.seek, since a
   * failed batch is re-delivered from the last handled batch, not from the last commit.
   */
  autoCommit?: boolean;
  /** Called with the full new assignment after each rebalance, before any batch of it. */
  onAssignment?(assigned: readonly TopicPartition[]): Promise<void> | void;
  /** Called when the group starts a rebalance: partitions may move away; onAssignment follows. */
  onRebalance?(): void;
  /** Called when the consumer stopped because of an error it could not recover from. */
  onCrash?(error: Error): void;
  /** Parallel partitions per consumer; default 1. */
  partitionsConsumedConcurrently?: number;
}

export interface Consumer {
  start(options: ConsumeOptions): Promise<void>;
  pause(partitions: readonly TopicPartition[]): void;
  /**
   * Commits these offsets (the next offset to read per partition) for the group. Fails when
   * the group rebalanced meanwhile; what was handled is then read again by the next owner.
   */
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  /** The partition's next batch starts at this offset (records fetched but not handled are dropped). */
  seek(position: TopicPartitionOffset): void;
  resume(partitions: readonly TopicPartition[]): void;
  /** Leaves the group and closes connections; safe to call twice. */
  stop(): Promise<void>;
}

export interface ConsumerOptions {
  groupId: string;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  maxBytesPerPartition?: number;
  /** How long the broker may hold a fetch waiting for data; lower for latency. */
  maxWaitTimeMs?: number;
}

export interface TopicConfigSpec {
  topic: string;
  numPartitions: number;
  compacted: boolean;
  retentionMs?: number;
  /** max.message.bytes of the topic; the broker default when absent. */
  maxMessageBytes?: number;
}

export interface Admin {
  /** Creates missing topics (idempotent); existing topics are left as they are. */
  ensureTopics(specs: readonly TopicConfigSpec[]): Promise<void>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  listTopics(): Promise<string[]>;
  /** Broker count and controller id: a metadata round trip (readiness probes). */
  describeCluster(): Promise<{ brokers: number; controllerId: number | null }>;
  partitionCount(topic: string): Promise<number>;
  /** High watermark per partition (the offset the next record will get). */
  endOffsets(topic: string): Promise<TopicPartitionOffset[]>;
  /** Low watermark per partition (the oldest offset still readable after retention). */
  startOffsets(topic: string): Promise<TopicPartitionOffset[]>;
  /** Committed offsets of a group for a topic (-1 when none). */
  committedOffsets(groupId: string, topic: string): Promise<TopicPartitionOffset[]>;
  close(): Promise<void>;
}

/**
 * Reads partitions of a topic from the start to the end they had when the read began,
 * outside the application's consumer group (state restore from a changelog).
 */
export interface PartitionReader {
  readToEnd(
    topic: string,
    partitions: readonly number[],
    onRecords: (records: readonly IncomingRecord[]) => void | Promise<void>,
  ): Promise<{ records: number }>;
}

export interface KafkaClient {
  createProducer(options?: ProducerOptions): Promise<Producer>;
  createConsumer(options: ConsumerOptions): Consumer;
  createAdmin(): Promise<Admin>;
  createPartitionReader(): PartitionReader;
}
