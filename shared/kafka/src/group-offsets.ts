import type { PartitionProgressTracker } from '@calwatch/runtime';
import type { Admin } from './types';

/** Where one partition of a topic stands for a consumer group. */
export interface GroupPartitionOffsets {
  partition: number;
  /** Log start (oldest offset still readable after retention). */
  start: bigint;
  /** Log end (the offset the next record gets). */
  end: bigint;
  /** -1 when the group never committed. */
  committed: bigint;
}

/** Log start, log end and the group's committed offset of every partition of a topic. */
export async function readGroupOffsets(admin: Admin, groupId: string, topic: string): Promise<GroupPartitionOffsets[]> {
  const [start, end, committed] = await Promise.all([admin.startOffsets(topic), admin.endOffsets(topic), admin.committedOffsets(groupId, topic)]);
  return end.map((e) => ({
    partition: e.partition,
    end: BigInt(e.offset),
    start: BigInt(start.find((s) => s.partition === e.partition)?.offset ?? '0'),
    committed: BigInt(committed.find((c) => c.partition === e.partition)?.offset ?? '-1'),
  }));
}

/**
 * The offset the group reads next: its committed one, or the log start when retention passed
 * it. A group that never committed starts at the log start when it reads from the beginning,
 * else at the log end.
 */
export function nextOffsetOf(p: GroupPartitionOffsets, fromBeginning = true): bigint {
  if (p.committed < 0n && !fromBeginning) return p.end;
  return p.committed > p.start ? p.committed : p.start;
}

/** Feeds a progress tracker from the log ends and committed offsets of a group's topics. */
export async function readGroupProgress(
  admin: Admin,
  group: { groupId: string; fromBeginning: boolean },
  topics: readonly string[],
  progress: PartitionProgressTracker,
): Promise<void> {
  for (const topic of topics) {
    const offsets = await readGroupOffsets(admin, group.groupId, topic);
    progress.offsetsRead(topic, offsets.map((p) => ({ partition: p.partition, end: p.end, next: nextOffsetOf(p, group.fromBeginning) })));
  }
}

export interface GroupLagReaderOptions {
  admin: Admin;
  groupId: string;
  /** Where the group starts when it never committed (as its consumer was started). */
  fromBeginning: boolean;
  topics: readonly string[];
  progress: PartitionProgressTracker;
  intervalMs: number;
  /** A failed read is retried at the next interval; the gauges keep their last values meanwhile. */
  onError(error: unknown): void;
}

/**
 * Reads the group's offsets every interval. Between batches the log end moves on without
 * the consumer seeing it: without this read, a consumer stuck after its last batch would
 * show no lag and no time since progress.
 */
export function startGroupLagReader(options: GroupLagReaderOptions): { stop(): void } {
  let reading: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (reading !== undefined) return;
    reading = readGroupProgress(options.admin, options, options.topics, options.progress)
      .catch(options.onError)
      .finally(() => {
        reading = undefined;
      });
  }, options.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
