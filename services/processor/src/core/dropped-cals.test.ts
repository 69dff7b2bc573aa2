import { describe, expect, it } from 'vitest';
import { mergeSorted } from './chain';
import { droppedCalsView, issuedBetween, unexpired, withDroppedHwids, withoutLicense } from './dropped-cals';
import { day, hwidEntry, licenseRecordAt } from '../testing/rule-kit';

const ids = (list: readonly { cal: { licenseId: number } }[] | undefined) => list?.map((d) => d.cal.licenseId);

describe('CALs of HWIDs a name dropped at its cap', () => {
  const clock = day(30);
  const valid = (id: number, issuedDay: number) => licenseRecordAt(id, day(issuedDay));

  it('keeps the valid permanent CALs only, in chain order, and passes over those without an expiry date', () => {
    const dropped = [
      hwidEntry('a', [valid(5, 5), licenseRecordAt(6, day(6), { status: 'temporary' })]),
      hwidEntry('b', [licenseRecordAt(7, day(7), { endedAt: day(8), endReason: 'revoked' }), licenseRecordAt(1, day(-40))]),
      hwidEntry('c', [valid(3, 3), licenseRecordAt(9, day(9), { expiresAt: null })]),
    ];
    const { list, overflow } = withDroppedHwids(undefined, dropped, clock, 10);
    // 6 temporary, 7 revoked, 1 expired on day 20: not held; 9 has no expiry: not kept, counted.
    expect(ids(list)).toEqual([3, 5]);
    expect(overflow).toBe(1);
    expect(list![0]).toEqual({ issuedAt: day(3), cal: { licenseId: 3, keyPackId: 1, expiresAt: day(63) } });
  });

  it('puts an older CAL in its place and lets the oldest go past the bound, counted', () => {
    const first = withDroppedHwids(undefined, [hwidEntry('a', [valid(10, 10)]), hwidEntry('b', [valid(12, 12)])], clock, 3).list;
    const second = withDroppedHwids(first, [hwidEntry('c', [valid(11, 11)]), hwidEntry('d', [valid(13, 13)])], clock, 3);
    expect(ids(second.list)).toEqual([11, 12, 13]);
    expect(second.overflow).toBe(1);
    // Nothing held: the same list, nothing counted.
    expect(withDroppedHwids(first, [hwidEntry('e', [licenseRecordAt(14, day(14), { status: 'temporary' })])], clock, 3)).toEqual({ list: first, overflow: 0 });
  });

  it('forgets a CAL seen again or expired, and hands back the same list when nothing changes', () => {
    const list = withDroppedHwids(undefined, [10, 11, 12].map((i) => hwidEntry(`h${i}`, [valid(i, i)])), clock, 10).list!;
    expect(withoutLicense(list, { licenseId: 99, issuedAt: day(99) })).toBe(list);
    // The same id issued another time is another license.
    expect(withoutLicense(list, { licenseId: 11, issuedAt: day(10) })).toBe(list);
    expect(ids(withoutLicense(list, { licenseId: 11, issuedAt: day(11) }))).toEqual([10, 12]);
    expect(ids(withoutLicense(list, { licenseId: 10, issuedAt: day(10) }))).toEqual([11, 12]);
    expect(ids(withoutLicense(list, { licenseId: 12, issuedAt: day(12) }))).toEqual([10, 11]);
    expect(unexpired(list, day(69))).toBe(list);
    expect(ids(unexpired(list, day(70)))).toEqual([11, 12]);
    expect(ids(unexpired(list, day(73)))).toEqual([]);
  });

  it('gives the rules one view per list: candidates, sorted ids, the soonest expiry, issues in a window', () => {
    const list = withDroppedHwids(undefined, [hwidEntry('a', [valid(20, 2), licenseRecordAt(4, day(4), { keyPackId: 7 })])], clock, 10).list!;
    const view = droppedCalsView(list);
    expect(droppedCalsView(list)).toBe(view);
    expect(view.cals).toEqual([list[0]!.cal, list[1]!.cal]);
    expect(view.cals[0]).toBe(list[0]!.cal);
    expect([view.licenseIds, view.keyPackIds, view.nextExpiry]).toEqual([[4, 20], [1, 7], day(62)]);
    expect(issuedBetween(view, day(3), clock)).toEqual({ count: 1, earliest: day(4) });
    expect(issuedBetween(view, day(0), day(3))).toEqual({ count: 1, earliest: day(2) });
    expect(droppedCalsView(undefined).cals).toEqual([]);
  });

  it('merges two sorted id lists into one without duplicates', () => {
    expect(mergeSorted([1, 4, 6, 9], [2, 4, 9, 10, 11])).toEqual([1, 2, 4, 6, 9, 10, 11]);
    expect(mergeSorted([], [3])).toEqual([3]);
    expect(mergeSorted(['a', 'c'], ['b'])).toEqual(['a', 'b', 'c']);
  });
});
