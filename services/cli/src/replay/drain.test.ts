import { describe, expect, it } from 'vitest';
import { lagOf } from './drain';

describe('lagOf', () => {
  it('sums what each partition has beyond its committed offset', () => {
    const ends = [
      { partition: 0, offset: '10' },
      { partition: 1, offset: '5' },
      { partition: 2, offset: '0' },
    ];
    expect(lagOf(ends, [{ partition: 0, offset: '10' }, { partition: 1, offset: '2' }, { partition: 2, offset: '-1' }])).toBe(3);
  });

  it('counts a partition without a commit from its start', () => {
    expect(lagOf([{ partition: 0, offset: '7' }], [{ partition: 0, offset: '-1' }])).toBe(7);
    expect(lagOf([{ partition: 0, offset: '7' }], [])).toBe(7);
  });
});
