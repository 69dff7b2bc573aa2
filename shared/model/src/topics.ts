/**
 * Every topic calwatch uses, derived from one prefix so a replay can run in an isolated
 * namespace (`calwatch.replay.<name>.`) without touching live topics.
 */
export interface TopicNames {
  /** Canonical events keyed by license server (every detection rule is about one server). */
  events: string;
  /** Records that failed validation or processing, with the reason and original bytes. */
  deadLetter: string;
  /** Collector: last snapshot per license server as a head and one entry per license (compacted). */
  snapshotState: string;
  /** Processor: finding updates keyed by finding id. */
  findings: string;
  /** Processor: each event with its chain context and classification. */
  enriched: string;
  /** Processor: one record per planned CAL revocation and per change of it, keyed by server|license id. */
  revocations: string;
  /** Processor: its state as small entries, partitioned like the events (compacted). */
  processorChangelog: string;
  /** Notifier: open alerts, throttle and quiet-period state (compacted). */
  alertState: string;
}

export const DEFAULT_TOPIC_PREFIX = 'calwatch.';

export function buildTopicNames(prefix: string = DEFAULT_TOPIC_PREFIX): TopicNames {
  return {
    events: `${prefix}events`,
    deadLetter: `${prefix}dead-letter`,
    snapshotState: `${prefix}collector.snapshot-state`,
    findings: `${prefix}findings`,
    enriched: `${prefix}enriched`,
    revocations: `${prefix}revocations`,
    processorChangelog: `${prefix}processor.changelog`,
    alertState: `${prefix}notifier.alert-state`,
  };
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  compacted: boolean;
  retentionMs?: number;
  /** Largest record batch the topic accepts (max.message.bytes); the broker default otherwise. */
  maxMessageBytes?: number;
}

export interface TopicLayout {
  partitions: number;
  retentionMs: number;
  deadLetterRetentionMs: number;
}

/**
 * What calwatch creates at setup. The processor's changelog shares the events' partition
 * count so that a partition's state and its changelog stay co-partitioned, as in Kafka Streams.
 */
export function buildTopicSpecs(names: TopicNames, layout: TopicLayout): TopicSpec[] {
  const stream = (topic: string): TopicSpec => ({ topic, numPartitions: layout.partitions, compacted: false, retentionMs: layout.retentionMs });
  const table = (topic: string): TopicSpec => ({ topic, numPartitions: layout.partitions, compacted: true });
  return [
    stream(names.events),
    { topic: names.deadLetter, numPartitions: layout.partitions, compacted: false, retentionMs: layout.deadLetterRetentionMs },
    table(names.snapshotState),
    stream(names.findings),
    stream(names.enriched),
    stream(names.revocations),
    table(names.processorChangelog),
    table(names.alertState),
  ];
}
