import { describe, expect, it } from 'vitest';
import { waitFor } from '../../../test/harness/wait-for';
import { createKeyedMutex } from './keyed-mutex';

describe('keyed mutex', () => {
  it('runs tasks of one key one at a time in arrival order, other keys alongside', async () => {
    const mutex = createKeyedMutex();
    const log: string[] = [];
    // Each task holds its key until the test opens its gate.
    const gates = new Map<string, () => void>();
    const task = (name: string) => async () => {
      log.push(`start ${name}`);
      await new Promise<void>((resolve) => gates.set(name, resolve));
      log.push(`end ${name}`);
      return name;
    };
    const open = async (name: string) => (await waitFor(() => gates.get(name), 2_000, `task ${name} to start`, { intervalMs: 1 }))();
    const running = Promise.all([mutex.run('a', task('a1')), mutex.run('a', task('a2')), mutex.run('b', task('b1'))]);
    await open('b1');
    await open('a1');
    await open('a2');
    expect(await running).toEqual(['a1', 'a2', 'b1']);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
    await waitFor(() => mutex.size === 0, 2_000, 'the mutex to forget finished keys', { intervalMs: 1 });
  });

  it('keeps going after a failed task', async () => {
    const mutex = createKeyedMutex();
    const failed = mutex.run('a', async () => {
      throw new Error('boom');
    });
    const next = mutex.run('a', async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
  });
});
