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

/** The event id a buffer key was built from. */
export function eventIdOfBufferKey(key: string): string {
  return key.slice(BUFFER_PREFIX.length);
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
 * costs nothing; one already written gets a tombstone when released. Entries are known by
 * their event id and get their changelog key only when written: every input event enters
 * and leaves the buffer, most of them between two writes.
 */
export class BufferLog<V> {
  private readonly pending = new Map<string, V | null>();
  private readonly persisted = new Set<string>();

  add(eventId: string, value: V): void {
    this.pending.set(eventId, value);
  }

  remove(eventId: string): void {
    if (this.persisted.has(eventId)) this.pending.set(eventId, null);
    else this.pending.delete(eventId);
  }

  /** Restore: the entry is in the changelog already. */
  markPersisted(eventId: string): void {
    this.persisted.add(eventId);
  }

  drain(topic: string, partition: number, into: OutgoingRecord[]): void {
    for (const [eventId, value] of this.pending) {
      into.push(buildChangelogRecord(topic, partition, buildEventBufferKey(eventId), value));
      if (value === null) this.persisted.delete(eventId);
      else this.persisted.add(eventId);
    }
    this.pending.clear();
  }
}
