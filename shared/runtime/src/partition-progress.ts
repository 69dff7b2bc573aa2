/** A partition of a topic (structurally the Kafka adapter's TopicPartition). */
interface TopicPartition {
  topic: string;
  partition: number;
}

/** How far one assigned input partition is behind, and since when it has not moved. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** Records between the next one this instance reads and the log end; undefined until known. */
  lag: number | undefined;
  /** Since the partition last handled a batch or was seen caught up. */
  secondsSinceProgress: number;
}

export interface PartitionProgressTracker {
  /** The consumer's new assignment: partitions no longer ours are forgotten. */
  assign(assigned: readonly TopicPartition[]): void;
  /** A batch was handled and committed up to `next`; `end` is the log end the fetch saw. */
  batchHandled(topic: string, partition: number, next: bigint, end: bigint): void;
  /** Log end and where the group stands, read by the punctuator. */
  offsetsRead(topic: string, partitions: ReadonlyArray<{ partition: number; end: bigint; next: bigint }>): void;
  view(): PartitionLag[];
}

interface Entry {
  topic: string;
  partition: number;
  end: bigint | undefined;
  next: bigint | undefined;
  progressAt: number;
}

const idOf = (topic: string, partition: number) => `${topic}:${partition}`;

/**
 * Per-partition lag and time since progress of a consumer, for a service's metrics: a
 * partition that is behind and has not moved for long is what "the consumer is stuck" looks like.
 */
export function createPartitionProgress(now: () => number = Date.now): PartitionProgressTracker {
  const entries = new Map<string, Entry>();

  function caughtUp(entry: Entry): boolean {
    return entry.end !== undefined && entry.next !== undefined && entry.next >= entry.end;
  }

  return {
    assign(assigned) {
      const wanted = new Map(assigned.map((tp) => [idOf(tp.topic, tp.partition), tp]));
      for (const id of [...entries.keys()]) if (!wanted.has(id)) entries.delete(id);
      for (const [id, tp] of wanted) {
        if (!entries.has(id)) entries.set(id, { topic: tp.topic, partition: tp.partition, end: undefined, next: undefined, progressAt: now() });
      }
    },
    batchHandled(topic, partition, next, end) {
      const entry = entries.get(idOf(topic, partition));
      if (entry === undefined) return;
      entry.next = next;
      if (entry.end === undefined || end > entry.end) entry.end = end;
      entry.progressAt = now();
    },
    offsetsRead(topic, partitions) {
      for (const p of partitions) {
        const entry = entries.get(idOf(topic, p.partition));
        if (entry === undefined) continue;
        entry.end = p.end;
        if (entry.next === undefined || p.next > entry.next) entry.next = p.next;
        if (caughtUp(entry)) entry.progressAt = now();
      }
    },
    view() {
      const at = now();
      return [...entries.values()].map((entry) => {
        const lag = entry.end === undefined || entry.next === undefined ? undefined : Number(entry.end > entry.next ? entry.end - entry.next : 0n);
        return { topic: entry.topic, partition: entry.partition, lag, secondsSinceProgress: lag === 0 ? 0 : Math.max(0, (at - entry.progressAt) / 1000) };
      });
    },
  };
}
