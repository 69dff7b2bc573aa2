import { describe, expect, it } from 'vitest';
import { countDistinct, firstNames, newestIds } from './bounded-lists';
import { seededInts } from './testing';

/** The plain definitions, to compare the one-pass versions against. */
const reference = {
  newestIds: (ids: number[], max: number) => [...new Set(ids)].sort((a, b) => a - b).slice(-max),
  firstNames: (names: string[], max: number) => [...new Set(names)].sort().slice(0, max),
  countDistinct: (items: unknown[]) => new Set(items).size,
};

describe('bounded lists', () => {
  const inputs: number[][] = [
    [],
    [7],
    [1, 2, 3],
    [3, 2, 1],
    [5, 5, 5],
    seededInts(500, 100_000, 1),
    seededInts(500, 60, 2),
    Array.from({ length: 300 }, (_, i) => i * 3),
    Array.from({ length: 300 }, (_, i) => 1_000_000_000_000 + i),
  ];

  it('newestIds and countDistinct equal their plain definitions on sorted, unsorted and repeating ids', () => {
    for (const ids of inputs) {
      for (const max of [1, 3, 50]) expect(newestIds(ids, max)).toEqual(reference.newestIds(ids, max));
      expect(countDistinct(ids)).toBe(reference.countDistinct(ids));
    }
  });

  it('firstNames and countDistinct equal their plain definitions on names', () => {
    for (const ids of inputs) {
      const names = ids.map((n) => `PC-${n}`);
      for (const max of [1, 3, 50]) expect(firstNames(names, max)).toEqual(reference.firstNames(names, max));
      expect(countDistinct(names)).toBe(reference.countDistinct(names));
    }
  });

  it('returns a list of its own, never the input', () => {
    const ids = [1, 2, 3];
    const out = newestIds(ids);
    out.push(4);
    expect(ids).toEqual([1, 2, 3]);
  });
});
