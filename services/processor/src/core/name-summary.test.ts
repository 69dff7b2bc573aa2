import { describe, expect, it } from 'vitest';
import { retainedUntil, withRecord } from './chain';
import type { HwidEntry } from './hwid-entry';
import type { LicenseRecord } from './license-record';
import { createNameSummaries } from './name-summary';
import { licenseRecordAt } from '../testing/rule-kit';
import { createSeededRandom } from '../testing/timeline-kit';

const DAY = 86_400_000;

const license = (licenseId: number, hwid: string, issuedAt: number, keyPackId: number, updatedAt = issuedAt) =>
  licenseRecordAt(licenseId, issuedAt, { hwid, computer: 'vdi-01', keyPackId, updatedAt });

/** The exact retention bounds of a list, as pruning would read them. */
function exactBounds(hwids: readonly HwidEntry[]): { retainedFrom: number; longestChain: number } {
  let retainedFrom = Infinity;
  let longestChain = 0;
  for (const h of hwids) {
    longestChain = Math.max(longestChain, h.licenses.length);
    if (h.licenses.length === 0) retainedFrom = Math.min(retainedFrom, h.lastAliveAt);
    for (const r of h.licenses) retainedFrom = Math.min(retainedFrom, retainedUntil(r));
  }
  return { retainedFrom, longestChain };
}

const byFirstSeen = (a: HwidEntry, b: HwidEntry) => a.firstSeen - b.firstSeen || (a.hwid < b.hwid ? -1 : a.hwid > b.hwid ? 1 : 0);

describe('name summaries', () => {
  it('carried from list to list, equal what is derived from each list afresh', () => {
    // A churning VDI name: a new HWID most of the time, now and then another license on an
    // HWID it had, an update in place (sometimes to another key pack, sometimes a revocation),
    // a license dated before its HWID was first seen.
    const random = createSeededRandom(5);
    const names = createNameSummaries();
    let hwids: HwidEntry[] = [];
    let clock = 0;
    let carried = 0;
    let drops = 0;
    let dropped = 0;
    let bounded = 0;
    // Carried over, the retention bounds may be loose but never past the exact ones: a bound
    // above a license's retention would let pruning skip a list that has a CAL to forget.
    const expectSoundBounds = (hwids: readonly HwidEntry[]) => {
      const kept = names.boundsOf(hwids);
      if (kept === undefined) return;
      bounded++;
      const exact = exactBounds(hwids);
      expect(kept.retainedFrom).toBeLessThanOrEqual(exact.retainedFrom);
      expect(kept.longestChain).toBeGreaterThanOrEqual(exact.longestChain);
    };
    for (let i = 1; i <= 1500; i++) {
      // Measured now and then (as by-computer does when it reads a list), carried in between.
      if (i % 100 === 20) {
        names.measure(hwids);
        expect(names.boundsOf(hwids)).toEqual(exactBounds(hwids));
      }
      clock += Math.floor(random() * 6 * 3_600_000);
      const roll = random();
      const before = hwids;
      names.summaryOf(before);
      let found: HwidEntry | undefined;
      let record: LicenseRecord;
      let entry: HwidEntry;
      if (roll < 0.75 || before.length === 0) {
        record = license(i, `H${i}`, clock, 2 + Math.floor(random() * 3));
        entry = { hwid: record.hwid, firstSeen: record.issuedAt, lastAliveAt: record.aliveAt, licenses: [record] };
        hwids = [...before, entry].sort(byFirstSeen);
      } else {
        const index = Math.floor(random() * before.length);
        found = before[index]!;
        if (roll < 0.85) {
          const old = found.licenses[0]!;
          record = { ...old, keyPackId: random() < 0.5 ? old.keyPackId : 9, updatedAt: clock };
          // Now and then revoked: it ends now, before every other license of the list expires.
          if (random() < 0.3) record = { ...record, status: 'revoked', endedAt: clock };
        } else {
          const issuedAt = roll < 0.9 ? found.firstSeen - DAY : clock;
          record = license(i, found.hwid, issuedAt, 2, clock);
        }
        entry = { ...found, firstSeen: Math.min(found.firstSeen, record.issuedAt), licenses: withRecord(found.licenses, record) };
        hwids = before.slice();
        hwids[index] = entry;
        if (entry.firstSeen !== found.firstSeen) hwids.sort(byFirstSeen);
      }
      if (names.follow(before, hwids, found, entry, record)) carried++;
      expect(names.summaryOf(hwids)).toEqual(createNameSummaries().summaryOf(hwids));
      expectSoundBounds(hwids);
      // Now and then the cap drops the longest silent HWIDs (one, or a few at once).
      if (hwids.length > 40 && random() < 0.3) {
        const keep = new Set([...hwids].sort((a, b) => b.lastAliveAt - a.lastAliveAt).slice(0, 40 - Math.floor(random() * 3)));
        const full = hwids;
        hwids = full.filter((h) => keep.has(h));
        drops++;
        if (names.followDrop(full, hwids)) dropped++;
        expect(names.summaryOf(hwids)).toEqual(createNameSummaries().summaryOf(hwids));
        expectSoundBounds(hwids);
      }
    }
    // Retention bounds were carried over on most steps.
    expect(bounded).toBeGreaterThan(1400);
    expect(drops).toBeGreaterThan(200);
    expect(dropped).toBe(drops);
    // Most steps were carried over, not derived again.
    expect(carried).toBeGreaterThan(1300);
  });
});
