import { recordLimitFor } from './kafka/record-size';

/**
 * Every topic calwatch uses, derived from one prefix so a replay can run in an isolated
 * namespace (`calwatch.replay.<name>.`) without touching live topics.
 */
export interface TopicNames {
  /** Canonical events keyed by normalised HWID (or license server). */
  events: string;
  /** Records that failed validation or processing, with the reason and original bytes. */
  deadLetter: string;
  /** Collector: last snapshot per license server (compacted). */
  snapshotState: string;
  /** Processor: finding updates keyed by finding id. */
  findings: string;
  /** Processor: each event with its chain context and classification. */
  enriched: string;
  /** Processor: stage repartition topics (keyed by computer / by license server). */
  byComputer: string;
  byServer: string;
  /** Processor: per-stage state changelogs (compacted). */
  changelogByHwid: string;
  changelogByComputer: string;
  changelogByServer: string;
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
    byComputer: `${prefix}processor.by-computer`,
    byServer: `${prefix}processor.by-server`,
    changelogByHwid: `${prefix}processor.by-hwid-changelog`,
    changelogByComputer: `${prefix}processor.by-computer-changelog`,
    changelogByServer: `${prefix}processor.by-server-changelog`,
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

/** A license server's snapshot state holds every issued license: allow large records. */
export const SNAPSHOT_STATE_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

/** Record size limits of the topics setup creates with their own max.message.bytes (for createProducer). */
export function topicRecordLimits(names: Pick<TopicNames, 'snapshotState'>): Record<string, number> {
  return { [names.snapshotState]: recordLimitFor(SNAPSHOT_STATE_MAX_MESSAGE_BYTES) };
}

export interface TopicLayout {
  partitions: number;
  retentionMs: number;
  deadLetterRetentionMs: number;
}

/**
 * What calwatch creates at setup. Stage topics share the input's partition count so that
 * a partition's state and its changelog stay co-partitioned, as in Kafka Streams.
 */
export function buildTopicSpecs(names: TopicNames, layout: TopicLayout): TopicSpec[] {
  const stream = (topic: string): TopicSpec => ({ topic, numPartitions: layout.partitions, compacted: false, retentionMs: layout.retentionMs });
  const table = (topic: string): TopicSpec => ({ topic, numPartitions: layout.partitions, compacted: true });
  return [
    stream(names.events),
    { topic: names.deadLetter, numPartitions: layout.partitions, compacted: false, retentionMs: layout.deadLetterRetentionMs },
    { ...table(names.snapshotState), maxMessageBytes: SNAPSHOT_STATE_MAX_MESSAGE_BYTES },
    stream(names.findings),
    stream(names.enriched),
    stream(names.byComputer),
    stream(names.byServer),
    table(names.changelogByHwid),
    table(names.changelogByComputer),
    table(names.changelogByServer),
    table(names.alertState),
  ];
}
