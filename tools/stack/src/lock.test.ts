import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { withLock } from './lock';

describe('withLock', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'calwatch-lock-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs holders one at a time', async () => {
    const lock = join(dir, 'serial');
    const events: string[] = [];
    const hold = (name: string) =>
      withLock(lock, 5_000, async () => {
        events.push(`${name}+`);
        // Deliberate: the holder keeps the lock a while, so the other's first try finds it
        // taken and has to wait its turn; that wait is what this test is about.
        await new Promise((r) => setTimeout(r, 100));
        events.push(`${name}-`);
      });
    await Promise.all([hold('a'), hold('b')]);
    expect(events.join(' ')).toMatch(/^(a\+ a- b\+ b-|b\+ b- a\+ a-)$/);
  });

  it('takes over a lock whose owner died', async () => {
    const lock = join(dir, 'stale');
    const dead = spawnSync('true').pid!;
    await mkdir(lock);
    await writeFile(join(lock, 'owner'), String(dead));
    await expect(withLock(lock, 2_000, async () => 'ran')).resolves.toBe('ran');
  });

  it('gives up on a lock a live process holds', async () => {
    const lock = join(dir, 'held');
    await mkdir(lock);
    await writeFile(join(lock, 'owner'), '1');
    await expect(withLock(lock, 300, async () => 'ran')).rejects.toSatisfy((e: unknown) => isCalwatchError(e, 'STACK_LOCKED'));
  });
});
