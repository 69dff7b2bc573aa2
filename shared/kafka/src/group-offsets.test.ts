import { describe, expect, it } from 'vitest';
import { createPartitionProgress } from '@calwatch/runtime';
import { nextOffsetOf, readGroupProgress } from './group-offsets';
import type { Admin, TopicPartitionOffset } from './types';

const at = (offsets: Record<number, number>, topic = 'in'): TopicPartitionOffset[] =>
  Object.entries(offsets).map(([partition, offset]) => ({ topic, partition: Number(partition), offset: String(offset) }));

describe('group offsets', () => {
  it('read next from the committed offset, or the log start when none or retention passed it', () => {
    expect(nextOffsetOf({ partition: 0, start: 10n, end: 50n, committed: 30n })).toBe(30n);
    expect(nextOffsetOf({ partition: 0, start: 10n, end: 50n, committed: 5n })).toBe(10n);
    expect(nextOffsetOf({ partition: 0, start: 10n, end: 50n, committed: -1n })).toBe(10n);
    // A group that starts at the end has nothing to read until records arrive.
    expect(nextOffsetOf({ partition: 0, start: 10n, end: 50n, committed: -1n }, false)).toBe(50n);
    expect(nextOffsetOf({ partition: 0, start: 10n, end: 50n, committed: 30n }, false)).toBe(30n);
  });

  it('give a tracker the lag of every assigned partition', async () => {
    const admin = {
      startOffsets: async () => at({ 0: 0, 1: 5 }),
      endOffsets: async () => at({ 0: 100, 1: 40 }),
      committedOffsets: async () => at({ 0: 60, 1: -1 }),
    } as Partial<Admin> as Admin;
    const progress = createPartitionProgress(() => 0);
    progress.assign([
      { topic: 'in', partition: 0 },
      { topic: 'in', partition: 1 },
    ]);
    await readGroupProgress(admin, { groupId: 'g', fromBeginning: true }, ['in'], progress);
    expect(progress.view().map((p) => [p.partition, p.lag])).toEqual([
      [0, 40],
      [1, 35],
    ]);
  });
});
