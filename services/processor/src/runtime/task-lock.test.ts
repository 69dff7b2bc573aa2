import { describe, expect, it } from 'vitest';
import { TaskLock } from './task-lock';

describe('TaskLock', () => {
  it('runs work one at a time, in call order, and says when it is busy', async () => {
    const lock = new TaskLock();
    const trace: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = lock.run(async () => {
      trace.push('a start');
      await held;
      trace.push('a end');
    });
    const fast = lock.run(async () => {
      trace.push('b');
      return 2;
    });
    expect(lock.busy).toBe(true);
    // A turn of the event loop gives the second piece of work every chance to jump the queue.
    await new Promise((resolve) => setImmediate(resolve));
    expect(trace).toEqual(['a start']);
    release();
    expect(await fast).toBe(2);
    await slow;
    expect(trace).toEqual(['a start', 'a end', 'b']);
    expect(lock.busy).toBe(false);
  });

  it('releases the lock when work fails', async () => {
    const lock = new TaskLock();
    await expect(lock.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await lock.run(async () => 'next')).toBe('next');
    expect(lock.busy).toBe(false);
  });
});
