import { z } from 'zod';
import { CanonicalEvent, type OutgoingRecord } from '@calwatch/shared';
import { OrderKey } from './order-key';

/**
 * What a task keeps in its changelog partition besides the stage states (keyed by the
 * state key): one task-meta record and one record per buffered input. Reserved keys
 * start with U+0000, which no HWID, computer key or server name does.
 */
export const META_KEY = '\u0000task';
const BUFFER_PREFIX = '\u0000buf\u0000';

export function isReservedKey(key: string): boolean {
  return key.startsWith('\u0000');
}

export function isBufferKey(key: string): boolean {
  return key.startsWith(BUFFER_PREFIX);
}

/** Buffered input events are keyed by event id: a re-sent copy replaces, never doubles. */
export function buildEventBufferKey(eventId: string): string {
  return `${BUFFER_PREFIX}${eventId}`;
}

export function buildMessageBufferKey(source: string, key: OrderKey): string {
  return `${BUFFER_PREFIX}${source}\u0000${key.at}\u0000${key.order}`;
}

export const SourceProgress = z.object({
  /** The source's last watermark (null: it has seen nothing). */
  at: z.number().nullable(),
  idle: z.boolean(),
  /** The greatest order key received from it: anything not after it is a repeat. */
  lastKey: OrderKey.nullable(),
});
export type SourceProgress = z.infer<typeof SourceProgress>;

/** Written with every state change, in the same send as the states it describes. */
export const TaskMeta = z.object({
  v: z.literal(1),
  /** The offset of the last input record applied: re-delivered records up to it are skipped. */
  lastOffset: z.string().nullable(),
  /** Ingress: the newest event time seen (stream time). */
  maxEventTime: z.number().nullable(),
  /** Ingress: events before this are applied, later ones still allowed; internal: the release bound. */
  releasedUpTo: z.number().nullable(),
  /** Internal: the key of the last step applied in order. */
  cursor: OrderKey.nullable(),
  /** The greatest order key this task sent on a repartition topic. */
  lastEmitted: OrderKey.nullable(),
  /** Internal: progress per upstream task (`topic:partition`). */
  sources: z.record(z.string(), SourceProgress),
});
export type TaskMeta = z.infer<typeof TaskMeta>;

/** A buffered message of an internal task, as its buffer record stores it. */
export const BufferedMessage = z.object({
  source: z.string(),
  key: OrderKey,
  stateKey: z.string(),
  message: z.unknown(),
});
export type BufferedMessage = z.infer<typeof BufferedMessage>;

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
