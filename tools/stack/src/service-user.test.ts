import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirTraversable } from './service-user';

describe('mkdirTraversable', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'calwatch-traversable-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates every missing level 0755 and leaves existing ones as they are', async () => {
    const before = (await stat(root)).mode & 0o777;
    await mkdirTraversable(join(root, 'a', 'b', 'c'));
    for (const level of [join(root, 'a'), join(root, 'a', 'b'), join(root, 'a', 'b', 'c')]) {
      expect((await stat(level)).mode & 0o777).toBe(0o755);
    }
    expect((await stat(root)).mode & 0o777).toBe(before);
    await mkdirTraversable(join(root, 'a', 'b'));
  });
});
