import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addLease, clearAutoStarted, liveLeases, readAutoStarted, removeLease, writeAutoStarted } from './leases';

describe('stack leases', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'calwatch-leases-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('counts live holders and drops leases of runs that died', async () => {
    const dead = spawnSync('true').pid!;
    await addLease(dir, process.pid);
    await addLease(dir, dead);
    expect(await liveLeases(dir)).toEqual([process.pid]);
    await removeLease(dir, process.pid);
    expect(await liveLeases(dir)).toEqual([]);
  });

  it('remembers which components leased runs started', async () => {
    expect(await readAutoStarted(dir)).toEqual([]);
    await writeAutoStarted(dir, ['kafka', 'elasticsearch', 'kafka']);
    expect(await readAutoStarted(dir)).toEqual(['kafka', 'elasticsearch']);
    await clearAutoStarted(dir);
    expect(await readAutoStarted(dir)).toEqual([]);
  });
});
