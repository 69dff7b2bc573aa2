import { describe, expect, it } from 'vitest';
import { LicenseIdSet } from './license-id-set';
import { seededInts } from '@calwatch/model/testing';

/** Adds `ids` to both sets and checks every answer of `has` and `add` against a plain Set. */
function compareWithSet(set: LicenseIdSet, ids: readonly number[], probes: readonly number[]): void {
  const plain = new Set<number>();
  for (const id of ids) {
    expect(set.has(id)).toBe(plain.has(id));
    expect(set.add(id)).toBe(!plain.has(id));
    plain.add(id);
  }
  for (const id of probes) expect(set.has(id)).toBe(plain.has(id));
}

describe('LicenseIdSet', () => {
  it('answers as a Set does, across its growth from 1,024 slots to many more', () => {
    const ids = seededInts(20_000, 50_000, 1);
    compareWithSet(new LicenseIdSet().clear(), ids, seededInts(5_000, 60_000, 2));
  });

  it('holds consecutive ids (a server numbers its CALs in order) and the ends of the range', () => {
    const ids = [...Array.from({ length: 3_000 }, (_, i) => 1_000_000 + i), 0, 2 ** 32 - 1];
    compareWithSet(new LicenseIdSet().clear(), ids, [999_999, 1_003_000, 1, 2 ** 32 - 2]);
  });

  it('keeps ids of any other form apart and answers for them too', () => {
    const ids = [-1, 2 ** 32, 2.5, 7, -1, 2 ** 40, 7, 2.5];
    compareWithSet(new LicenseIdSet().clear(), ids, [-2, 2 ** 32 + 1, 3.5]);
  });

  it('is empty after clear, however full it was, and starts from what clear is given', () => {
    const set = new LicenseIdSet();
    for (let plan = 0; plan < 5; plan++) {
      const ids = seededInts(2_000 * (plan + 1), 1_000_000, 10 + plan);
      set.clear([-5, 42]);
      expect(set.has(-5)).toBe(true);
      expect(set.has(42)).toBe(true);
      // Nothing of the plan before is left (its ids came from another seed).
      const before = seededInts(2_000 * plan, 1_000_000, 9 + plan).filter((id) => id !== 42);
      const fresh = new Set([...ids, 42]);
      for (const id of before) if (!fresh.has(id)) expect(set.has(id)).toBe(false);
      compareWithSet(set, ids.filter((id) => id !== 42), []);
    }
  });
});
