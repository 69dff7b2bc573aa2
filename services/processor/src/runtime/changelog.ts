import { z } from 'zod';
import { type OutgoingRecord } from '@calwatch/kafka';
import { CanonicalEvent } from '@calwatch/model';

/**
 * What a task keeps in its changelog partition besides the state entries (state-entries.ts):
 * one task-meta record and one record per buffered event. Their keys start with U+0000;
 * state entry keys are JSON arrays.
 */
export const META_KEY = '\u0000task';
const BUFFER_PREFIX = '\u0000buf\u0000';

export function isBufferKey(key: string): boolean {
  return key.startsWith(BUFFER_PREFIX);
}

/** Buffered input events are keyed by event id: a re-sent copy replaces, never doubles. */
export function buildEventBufferKey(eventId: string): string {
  return `${BUFFER_PREFIX}${eventId}`;
}

/** Written with every state change, in the same send as the states it describes. */
export const TaskMeta = z.object({
  v: z.literal(1),
  /** The offset of the last input record applied: re-delivered records up to it are skipped. */
  lastOffset: z.string().nullable(),
  /** The newest event time seen (stream time). */
  maxEventTime: z.number().nullable(),
  /** Events before this are applied; later ones are still allowed. */
  releasedUpTo: z.number().nullable(),
});
export type TaskMeta = z.infer<typeof TaskMeta>;

export const BufferedEvent = CanonicalEvent;

export function buildChangelogRecord(topic: string, partition: number, key: string, value: unknown): OutgoingRecord {
  return { topic, partition, key, value: value === null ? null : JSON.stringify(value) };
}

/**
 * Buffer entries as changelog writes: an entry added and released between two writes
 * costs nothing; one already written gets a tombstone when released.
 */
export class BufferLog<V> {
  private readonly pending = new Map<string, V | null>();
  private readonly persisted = new Set<string>();

  add(key: string, value: V): void {
    this.pending.set(key, value);
  }

  remove(key: string): void {
    if (this.persisted.has(key)) this.pending.set(key, null);
    else this.pending.delete(key);
  }

  /** Restore: the entry is in the changelog already. */
  markPersisted(key: string): void {
    this.persisted.add(key);
  }

  drain(topic: string, partition: number, into: OutgoingRecord[]): void {
    for (const [key, value] of this.pending) {
      into.push(buildChangelogRecord(topic, partition, key, value));
      if (value === null) this.persisted.delete(key);
      else this.persisted.add(key);
    }
    this.pending.clear();
  }
}
