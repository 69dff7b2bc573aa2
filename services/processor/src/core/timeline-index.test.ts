import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '../testing/timeline-kit';
import { extendTimeline, forEachEntryHash, timelineHasEvent } from './timeline-index';

const timelineEntryHashes = (timeline: Parameters<typeof forEachEntryHash>[0]) => {
  const hashes: number[] = [];
  forEachEntryHash(timeline, (h) => hashes.push(h));
  return hashes;
};

const entryOf = (n: number) => ({ at: new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString(), eventId: `event-${n}`, note: `note ${n % 7}` });

describe('a timeline index', () => {
  it('follows a timeline extended again and again, as if each timeline were indexed afresh', () => {
    const random = createSeededRandom(11);
    let timeline = [entryOf(0)];
    let next = 1;
    timelineEntryHashes(timeline);
    for (let step = 0; step < 400; step++) {
      const added = Array.from({ length: 1 + Math.floor(random() * 3) }, () => entryOf(next++));
      const max = 1 + Math.floor(random() * 12);
      const expected = [...timeline, ...added].slice(-max);
      timeline = extendTimeline(timeline, added, max);
      expect(timeline).toEqual(expected);
      // The same entries in a new list: indexed from its entries, not from the one before.
      expect(timelineEntryHashes(timeline)).toEqual(timelineEntryHashes([...timeline]));
      for (const e of timeline) expect(timelineHasEvent(timeline, e.eventId)).toBe(true);
      expect(timelineHasEvent(timeline, `event-${next}`)).toBe(false);
      expect(timelineHasEvent(timeline, `event-${next - added.length - max}`)).toBe(false);
    }
  });

  it('hashes entries by content: a changed note or time changes the hashes', () => {
    const a = [entryOf(1), entryOf(2)];
    const b = [entryOf(1), { ...entryOf(2), note: 'other' }];
    const c = [entryOf(1), { ...entryOf(2), at: entryOf(3).at }];
    expect(timelineEntryHashes(a)).not.toEqual(timelineEntryHashes(b));
    expect(timelineEntryHashes(a)).not.toEqual(timelineEntryHashes(c));
    expect(timelineEntryHashes(a).slice(0, 2)).toEqual(timelineEntryHashes(b).slice(0, 2));
  });

  it('leaves the timeline it extends as it was', () => {
    const base = [entryOf(1), entryOf(2), entryOf(3)];
    const extended = extendTimeline(base, [entryOf(4)], 3);
    expect(base.map((e) => e.eventId)).toEqual(['event-1', 'event-2', 'event-3']);
    expect(extended.map((e) => e.eventId)).toEqual(['event-2', 'event-3', 'event-4']);
  });
});
