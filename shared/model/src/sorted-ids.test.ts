import { describe, expect, it } from 'vitest';
import { distinctAscending, sortAscendingInPlace } from './sorted-ids';
import { seededInts } from './testing';

const byValue = (a: number, b: number) => a - b;

describe('distinctAscending and sortAscendingInPlace', () => {
  const inputs: Record<string, number[]> = {
    empty: [],
    one: [7],
    'two equal': [4, 4],
    ascending: [1, 2, 3],
    descending: [3, 2, 1],
    // Every byte of the ids differs: all four passes move.
    'full 32-bit range': seededInts(700, 2 ** 32, 1),
    'max and zero': [2 ** 32 - 1, 0, 2 ** 32 - 1, 1, 0],
    // One server's ids share their high bytes: those passes are skipped.
    'one high byte': seededInts(500, 60_000, 2).map((id) => 5_000_000 + id),
    'many duplicates': seededInts(1_000, 40, 3),
    // Past the first scratch buffer (1,024): it grows, and later short lists still sort right.
    'longer than the scratch': seededInts(5_000, 1_000_000, 4),
    // Not unsigned 32-bit integers: the typed sort takes them.
    negative: [3, -1, 2, -1],
    fractional: [2.5, 1, 2.5, 0.25],
    'past 2^32': [2 ** 32, 5, 2 ** 40, 5],
    'mixed after uint32 ones': [...seededInts(300, 1000, 5), -7, 0.5],
  };

  for (const [name, ids] of Object.entries(inputs)) {
    it(`gives the plain sort's answer: ${name}`, () => {
      const input = ids.slice();
      expect(distinctAscending(input)).toEqual([...new Set(ids)].sort(byValue));
      expect(input).toEqual(ids);
      const inPlace = ids.slice();
      expect(sortAscendingInPlace(inPlace)).toBe(inPlace);
      expect(inPlace).toEqual(ids.slice().sort(byValue));
    });
  }

  it('answers each call from its own input (the scratch buffers are reused)', () => {
    const long = seededInts(3_000, 2 ** 31, 6);
    const short = [9, 3, 9, 1];
    const first = distinctAscending(long);
    expect(distinctAscending(short)).toEqual([1, 3, 9]);
    expect(first).toEqual([...new Set(long)].sort(byValue));
    expect(distinctAscending(long)).toEqual(first);
  });
});
