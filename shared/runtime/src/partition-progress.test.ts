import { describe, expect, it } from 'vitest';
import { createPartitionProgress } from './partition-progress';

describe('partition progress', () => {
  it('reports lag and time since progress per assigned partition', () => {
    let now = 1_000;
    const progress = createPartitionProgress(() => now);
    progress.assign([
      { topic: 'events', partition: 0 },
      { topic: 'events', partition: 1 },
    ]);
    expect(progress.view()).toEqual([
      { topic: 'events', partition: 0, lag: undefined, secondsSinceProgress: 0 },
      { topic: 'events', partition: 1, lag: undefined, secondsSinceProgress: 0 },
    ]);

    progress.offsetsRead('events', [
      { partition: 0, end: 100n, next: 40n },
      { partition: 1, end: 7n, next: 7n },
      { partition: 2, end: 9n, next: 0n },
    ]);
    now = 31_000;
    // Partition 0 is behind and has not moved for 30 s; partition 1 is caught up: no stall.
    expect(progress.view()).toEqual([
      { topic: 'events', partition: 0, lag: 60, secondsSinceProgress: 30 },
      { topic: 'events', partition: 1, lag: 0, secondsSinceProgress: 0 },
    ]);

    progress.batchHandled('events', 0, 90n, 120n);
    now = 33_000;
    expect(progress.view()[0]).toEqual({ topic: 'events', partition: 0, lag: 30, secondsSinceProgress: 2 });
    // An older offset read never moves the position back.
    progress.offsetsRead('events', [{ partition: 0, end: 120n, next: 50n }]);
    expect(progress.view()[0]?.lag).toBe(30);

    progress.assign([{ topic: 'events', partition: 1 }]);
    expect(progress.view().map((p) => p.partition)).toEqual([1]);
  });
});
