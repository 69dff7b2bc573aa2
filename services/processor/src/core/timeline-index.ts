import type { z } from 'zod';
import type { TimelineEntry as TimelineEntrySchema } from '@calwatch/model';

type TimelineEntry = z.infer<typeof TimelineEntrySchema>;

/**
 * What is read of a finding's timeline on every step and every update: whether an event is in
 * it already, and a hash of each entry for the update's fingerprint. Read from the entries, that
 * is fifty objects and their strings spread over the heap, for every reissue of a cloned image
 * and every boot of a churning name. So each timeline gets an index, kept per timeline
 * (timelines are replaced, never changed): three 32-bit hashes per entry side by side in one
 * list of small integers (its event id's, and two of its content: at, event id, note). A
 * timeline is mostly the one before with an entry or two after it and, at timelineMax, less
 * its oldest: `extendTimeline` makes such a timeline's index from the one before's in one copy.
 * (Typed arrays this small cost more to allocate than the copy.)
 */
type TimelineIndex = number[];

const PER_ENTRY = 3;

const indexes = new WeakMap<readonly TimelineEntry[], TimelineIndex>();

function indexOf(timeline: readonly TimelineEntry[]): TimelineIndex {
  let index = indexes.get(timeline);
  if (index === undefined) {
    index = [];
    for (let i = 0; i < timeline.length; i++) pushEntry(index, timeline[i]!);
    indexes.set(timeline, index);
  }
  return index;
}

function pushEntry(index: TimelineIndex, entry: TimelineEntry): void {
  const h: [number, number] = [0x2f6b9a3d, 0x6a09e667];
  mixString(h, entry.at);
  mixString(h, entry.eventId);
  mixString(h, entry.note);
  index.push(stringHash(entry.eventId), h[0], h[1]);
}

/**
 * `base` followed by `added`, its oldest entries past `max` left out; indexed from `base`'s
 * index when it has one. Both are made at their size (`added` appended by `toSpliced`, the
 * oldest then taken off the front in place): pushed one by one, a timeline of fifty grew its
 * list three times over, and every reissue of a cloned image makes one.
 */
export function extendTimeline(base: readonly TimelineEntry[], added: readonly TimelineEntry[], max: number): TimelineEntry[] {
  const dropped = Math.max(0, base.length + added.length - max);
  const fromBase = Math.min(dropped, base.length);
  const kept = dropped > base.length ? added.slice(dropped - base.length) : added;
  const timeline = base.toSpliced(base.length, 0, ...kept);
  if (fromBase > 0) timeline.splice(0, fromBase);
  const known = indexes.get(base);
  if (known !== undefined) {
    const fresh: TimelineIndex = [];
    for (const entry of kept) pushEntry(fresh, entry);
    const index = known.toSpliced(known.length, 0, ...fresh);
    if (fromBase > 0) index.splice(0, PER_ENTRY * fromBase);
    indexes.set(timeline, index);
  }
  return timeline;
}

/** The timeline holds an entry of this event. */
export function timelineHasEvent(timeline: readonly TimelineEntry[], eventId: string): boolean {
  const index = indexOf(timeline);
  const hash = stringHash(eventId);
  for (let i = 0; i < index.length; i += PER_ENTRY) if (index[i] === hash && timeline[i / PER_ENTRY]!.eventId === eventId) return true;
  return false;
}

/** Calls `each` with the two 32-bit hashes of every entry, in order (an entry's are computed once, when it joins a timeline). */
export function forEachEntryHash(timeline: readonly TimelineEntry[], each: (hash: number) => void): void {
  const index = indexOf(timeline);
  for (let i = 0; i < index.length; i += PER_ENTRY) {
    each(index[i + 1]!);
    each(index[i + 2]!);
  }
}

function stringHash(s: string): number {
  let h = 0x811c9dc5 ^ s.length;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** Mixes `s` into the two 32-bit lanes of `h` (what the fingerprints of findings are made of). */
export function mixString(h: [number, number], s: string): void {
  let a = h[0] ^ s.length;
  let b = h[1] ^ 0x7f4a7c15;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  h[0] = a;
  h[1] = b;
}
