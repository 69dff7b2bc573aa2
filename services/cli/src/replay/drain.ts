import { type KafkaClient } from '@calwatch/kafka';
import { isCalwatchError } from '@calwatch/model';
import { isProgrammingError } from '@calwatch/runtime';
import { pause } from './pacing';

/** A consumer group and the topics it reads. */
export interface DrainTarget {
  groupId: string;
  topics: readonly string[];
}

export interface DrainOptions {
  kafka: KafkaClient;
  /** Each group must have committed everything on its topics. */
  targets: readonly DrainTarget[];
  /**
   * Topics whose ends must stay put for `quietMs` (default: the targets' topics). Outputs
   * are the ones to watch: a processor's internal topics also carry its progress
   * messages (watermarks), which need not stop for the results to be complete.
   */
  quietTopics?: readonly string[];
  /**
   * How long nothing may change (no lag, no new record on any of the topics) before the
   * pipeline counts as drained. Longer than the processor's idle release, which writes
   * the last buffered events without any new input.
   */
  quietMs: number;
  timeoutMs: number;
  pollMs?: number;
  /** A read of the offsets failed (a broker outage): told, then tried again at the next poll. */
  onReadFailed?: (error: unknown) => void;
  signal?: AbortSignal;
  now?: () => number;
}

export interface DrainState {
  /** Records written but not yet committed by the group that reads them. */
  lag: number;
  /** Identifies the end offsets of every topic watched: equal twice means nothing was written. */
  ends: string;
}

/** Pure: lag of one group over one topic from end offsets and committed offsets (-1 = none). */
export function lagOf(ends: ReadonlyArray<{ partition: number; offset: string }>, committed: ReadonlyArray<{ partition: number; offset: string }>): number {
  const done = new Map(committed.map((c) => [c.partition, BigInt(c.offset)]));
  let lag = 0n;
  for (const end of ends) {
    const at = done.get(end.partition) ?? -1n;
    const behind = BigInt(end.offset) - (at < 0n ? 0n : at);
    if (behind > 0n) lag += behind;
  }
  return Number(lag);
}

export async function readDrainState(kafka: KafkaClient, targets: readonly DrainTarget[], quietTopics?: readonly string[]): Promise<DrainState> {
  const admin = await kafka.createAdmin();
  try {
    let lag = 0;
    for (const target of targets) {
      for (const topic of target.topics) lag += lagOf(await admin.endOffsets(topic), await admin.committedOffsets(target.groupId, topic));
    }
    const ends: string[] = [];
    for (const topic of quietTopics ?? [...new Set(targets.flatMap((t) => t.topics))]) {
      const end = await admin.endOffsets(topic);
      ends.push(`${topic}:${end.map((e) => `${e.partition}=${e.offset}`).join(',')}`);
    }
    return { lag, ends: ends.join(';') };
  } finally {
    await admin.close();
  }
}

/**
 * Waits until every group has committed everything on its topics and nothing new was
 * written for `quietMs`. Returns false on timeout or abort.
 */
export async function waitUntilDrained(options: DrainOptions): Promise<boolean> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  let stableSince: number | undefined;
  let previous: string | undefined;
  while (now() < deadline && options.signal?.aborted !== true) {
    let state: DrainState;
    try {
      state = await readDrainState(options.kafka, options.targets, options.quietTopics);
    } catch (error) {
      // A broker outage while waiting is not the end of the replay: the deadline bounds it.
      if (isProgrammingError(error) || (isCalwatchError(error) && !error.retriable)) throw error;
      options.onReadFailed?.(error);
      stableSince = undefined;
      previous = undefined;
      await pause(options.pollMs ?? 500, options.signal);
      continue;
    }
    if (state.lag === 0 && state.ends === previous) {
      stableSince ??= now();
      if (now() - stableSince >= options.quietMs) return true;
    } else {
      stableSince = undefined;
    }
    previous = state.ends;
    await pause(options.pollMs ?? 500, options.signal);
  }
  return false;
}
