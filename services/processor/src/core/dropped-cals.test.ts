import { describe, expect, it } from 'vitest';
import { mergeSorted } from './chain';
import { type DroppedCal, droppedCalsView, issuedBetween, unexpired, withDroppedHwids, withoutLicense } from './dropped-cals';
import { day, hwidEntry, licenseRecordAt } from '../testing/rule-kit';
import { createSeededRandom } from '../testing/timeline-kit';

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

  it('hands each list made from another a view equal to one read from the list itself', () => {
    // A churning name's boots: CALs dropped (a key pack or two, some ids reused), seen again,
    // expired and past the bound, each list made from the one before.
    for (let seed = 1; seed <= 40; seed++) {
      const next = createSeededRandom(seed);
      let list: DroppedCal[] | undefined;
      let nextId = 1;
      for (let boot = 0; boot < 300; boot++) {
        const at = day(boot / 4);
        const id = next() < 0.05 && nextId > 5 ? nextId - 5 : nextId++;
        const record = licenseRecordAt(id, at, { keyPackId: next() < 0.3 ? 2 : 1, expiresAt: at + day(2 + Math.floor(next() * 30)) });
        list = withDroppedHwids(list, [hwidEntry(`h${boot}`, [record])], at, 40).list;
        if (list !== undefined && next() < 0.1 && list.length > 0) {
          const seen = list[Math.floor(next() * list.length)]!;
          list = withoutLicense(list, { licenseId: seen.cal.licenseId, issuedAt: seen.issuedAt });
        }
        if (list !== undefined) list = unexpired(list, at + day(next() * 2));
        if (list === undefined || list.length === 0) continue;
        const view = droppedCalsView(list);
        const read = droppedCalsView([...list]);
        expect({ ...view, list: read.list }, `seed ${seed}, boot ${boot}`).toEqual(read);
      }
    }
  });

  it('merges two sorted id lists into one without duplicates', () => {
    expect(mergeSorted([1, 4, 6, 9], [2, 4, 9, 10, 11])).toEqual([1, 2, 4, 6, 9, 10, 11]);
    expect(mergeSorted([], [3])).toEqual([3]);
    expect(mergeSorted(['a', 'c'], ['b'])).toEqual(['a', 'b', 'c']);
  });
});
