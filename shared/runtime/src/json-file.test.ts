import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readJsonFile } from './json-file';

const Schema = z.object({ n: z.number() });

describe('readJsonFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'calwatch-json-file-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is undefined for a file that does not exist', async () => {
    expect(await readJsonFile(join(dir, 'absent.json'), Schema)).toBeUndefined();
  });

  it('checks the content against the schema; text that is not JSON fails it', async () => {
    await writeFile(join(dir, 'good.json'), '{"n": 3}');
    await writeFile(join(dir, 'shape.json'), '{"n": "3"}');
    await writeFile(join(dir, 'broken.json'), '{"n": ');
    expect(await readJsonFile(join(dir, 'good.json'), Schema)).toMatchObject({ success: true, data: { n: 3 } });
    expect((await readJsonFile(join(dir, 'shape.json'), Schema))?.success).toBe(false);
    expect((await readJsonFile(join(dir, 'broken.json'), Schema))?.success).toBe(false);
  });

  it('throws other read errors as they are', async () => {
    await expect(readJsonFile(dir, Schema)).rejects.toMatchObject({ code: 'EISDIR' });
  });
});
