import { describe, expect, it } from 'vitest';
import { compareRecords, findRecord, insertedAt, pruneChain, retainedUntil, withRecord, withSorted, withoutSorted } from './chain';
import { parseCoreConfig } from './config';
import { holdsCalAt, isPermanent, isValidAt } from './license-record';
import type { LicenseRecord } from './license-record';
import { licenseRecordAt } from '../testing/rule-kit';
import { createSeededRandom } from '../testing/timeline-kit';

const DAY = 86_400_000;

describe('chain lookups', () => {
  it('find and insert by instance as a walk of the chain would, on chains of every length', () => {
    const random = createSeededRandom(11);
    let replaced = 0;
    let inserted = 0;
    for (let round = 0; round < 60; round++) {
      let chain: LicenseRecord[] = [];
      for (let step = 0; step < round * 5; step++) {
        // Few distinct times, ids and two servers: ties on every key of the order.
        const record = licenseRecordAt(1 + Math.floor(random() * 40), Math.floor(random() * 12) * DAY, {
          server: random() < 0.5 ? 'LS01' : 'LS02',
          computer: `PC${step}`,
        });
        const walked = chain.find((r) => r.licenseId === record.licenseId && r.issuedAt === record.issuedAt && r.server === record.server);
        expect(findRecord(chain, record)).toBe(walked);
        const next = withRecord(chain, record);
        if (walked === undefined) {
          inserted++;
          expect(next).toHaveLength(chain.length + 1);
        } else {
          replaced++;
          expect(next).toHaveLength(chain.length);
          expect(next).not.toContain(walked);
        }
        expect(next).toContain(record);
        expect(next).toEqual([...next].sort(compareRecords));
        chain = next;
      }
      // Instances not held are not found, whatever their place in the order.
      expect(findRecord(chain, { server: 'LS03', licenseId: 1, issuedAt: 0 })).toBeUndefined();
      expect(findRecord(chain, { server: 'LS01', licenseId: 999, issuedAt: 99 * DAY })).toBeUndefined();
    }
    expect(replaced).toBeGreaterThan(100);
    expect(inserted).toBeGreaterThan(1000);
  });
});

describe('a sorted list without some values', () => {
  it('equals filtering them out, for a few values (binary search) and for many (a set)', () => {
    const list = Array.from({ length: 200 }, (_, i) => i * 3);
    for (const values of [[], [0], [597], [300, 3, 3], [1, 2, 4], list.filter((v) => v % 2 === 0), [...list].reverse().slice(0, 9)]) {
      const expected = list.filter((v) => !values.includes(v));
      expect(withoutSorted(list, values)).toEqual(expected);
    }
    expect(withoutSorted(['a', 'c', 'e'], ['c'])).toEqual(['a', 'e']);
  });

  it('gives back the same list when none of the values is in it, and never changes its input', () => {
    const list = [1, 5, 9];
    expect(withoutSorted(list, [2, 10])).toBe(list);
    withoutSorted(list, [5]);
    expect(list).toEqual([1, 5, 9]);
  });
});

describe('a list with one value inserted', () => {
  it('equals a copy with the value spliced in, at every place, and leaves its input as it was', () => {
    for (const n of [0, 1, 2, 7, 40]) {
      const list = Array.from({ length: n }, (_, i) => `v${i}`);
      for (let at = 0; at <= n; at++) {
        const expected = [...list];
        expected.splice(at, 0, 'new');
        const out = insertedAt(list, at, 'new');
        expect(out).toEqual(expected);
        expect(out).toHaveLength(n + 1);
        expect(Object.keys(out)).toHaveLength(n + 1);
        expect(list).toHaveLength(n);
      }
    }
  });

  it('keeps a sorted list sorted and duplicate-free (withSorted)', () => {
    const random = createSeededRandom(7);
    let list: number[] = [];
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const value = Math.floor(random() * 300);
      const before = list;
      list = withSorted(list, value);
      if (seen.has(value)) expect(list).toBe(before);
      seen.add(value);
      expect(list).toEqual([...seen].sort((a, b) => a - b));
    }
  });
});

describe('a chain one license over its cap', () => {
  it('drops the first ended or expired license, else the first temporary, else the oldest, told its earliest end or not', () => {
    const config = parseCoreConfig({ state: { maxLicensesPerKey: 12 } });
    const random = createSeededRandom(5);
    const clock = 100 * DAY;
    const seen = new Set<string>();
    for (let round = 0; round < 300; round++) {
      const chain = Array.from({ length: 13 }, (_, i) => {
        const issuedAt = clock - (40 - i) * DAY;
        const roll = random();
        return licenseRecordAt(i + 1, issuedAt, {
          status: roll < 0.08 ? 'temporary' : 'active',
          expiresAt: roll > 0.97 ? clock - DAY : issuedAt + 89 * DAY,
          ...(roll > 0.95 && roll <= 0.97 ? { endedAt: clock - DAY, endReason: 'revoked' as const } : {}),
        });
      });
      const expendable =
        [(r: LicenseRecord) => !isValidAt(r, clock), (r: LicenseRecord) => !holdsCalAt(r, clock)]
          .map((test) => chain.findIndex(test))
          .find((i) => i >= 0) ?? 0;
      const expected = chain.filter((_, i) => i !== expendable);
      const earliestEnd = Math.min(...chain.map(retainedUntil));
      const temporaries = chain.filter((r) => !isPermanent(r.status)).length;
      expect(pruneChain(chain, clock, config)).toEqual(expected);
      expect(pruneChain(chain, clock, config, { earliestEnd, temporaries })).toEqual(expected);
      seen.add(!isValidAt(chain[expendable]!, clock) ? 'ended or expired' : !holdsCalAt(chain[expendable]!, clock) ? 'temporary' : 'oldest');
    }
    expect([...seen].sort()).toEqual(['ended or expired', 'oldest', 'temporary']);
  });

  it('a chain one over the cap, its bounds known, drops what reading every license would', () => {
    const config = parseCoreConfig({ state: { maxLicensesPerKey: 40 } });
    const clock = 100 * DAY;
    const bounds = (chain: readonly LicenseRecord[]) => ({
      earliestEnd: Math.min(...chain.map(retainedUntil)),
      temporaries: chain.filter((r) => !isPermanent(r.status)).length,
    });
    // A cloned image at the cap: valid permanent CALs only, the oldest goes (no license read).
    const permanent = Array.from({ length: 41 }, (_, i) => licenseRecordAt(i + 1, clock - (41 - i) * DAY, { status: 'active', expiresAt: clock + 30 * DAY }));
    expect(pruneChain(permanent, clock, config, bounds(permanent))).toEqual(permanent.slice(1));
    // One temporary among them: it goes, not the oldest.
    const withTemporary = permanent.map((r, i) => (i === 17 ? { ...r, status: 'temporary' as const } : r));
    expect(pruneChain(withTemporary, clock, config, bounds(withTemporary))).toEqual(withTemporary.filter((_, i) => i !== 17));
    expect(pruneChain(withTemporary, clock, config, bounds(withTemporary))).toEqual(pruneChain(withTemporary, clock, config));
  });
});
