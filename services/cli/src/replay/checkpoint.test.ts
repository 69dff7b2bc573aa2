import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { addToTotals, buildCheckpoint, emptyTotals, readCheckpoint, resumeCheckpoint, writeCheckpoint } from './checkpoint';
import type { ReplayInput } from './inputs';

const input = (path: string, size = 100, mtimeMs = 1): ReplayInput => ({
  path,
  display: path,
  size,
  mtimeMs,
  gzip: false,
  format: 'winlogbeat',
  container: 'ndjson',
  role: 'events',
  snapshotTime: '2024-01-01T00:00:00.000Z',
  snapshotTimeFrom: 'mtime',
});

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('checkpoint', () => {
  it('resumes with progress kept and new inputs added at zero', () => {
    const first = buildCheckpoint('kafka:p.', [input('/a'), input('/b')], 't0');
    const progressed = { ...first, inputs: { ...first.inputs, '/a': { ...first.inputs['/a']!, position: 40 } } };
    const resumed = resumeCheckpoint(progressed, 'kafka:p.', [input('/a'), input('/b'), input('/c')], 't1');
    expect(resumed.runs).toBe(2);
    expect(resumed.inputs['/a']!.position).toBe(40);
    expect(resumed.inputs['/c']).toEqual({ size: 100, mtimeMs: 1, position: 0, done: false });
  });

  it('refuses another target or an input that changed since it was started', () => {
    const first = buildCheckpoint('kafka:p.', [input('/a')], 't0');
    const started = { ...first, inputs: { '/a': { ...first.inputs['/a']!, done: true } } };
    const code = (run: () => unknown): string | undefined => {
      try {
        run();
      } catch (error) {
        return isCalwatchError(error) ? error.code : 'other';
      }
      return undefined;
    };
    expect(code(() => resumeCheckpoint(started, 'kafka:q.', [input('/a')], 't1'))).toBe('REPLAY_CHECKPOINT_MISMATCH');
    expect(code(() => resumeCheckpoint(started, 'kafka:p.', [input('/a', 101)], 't1'))).toBe('REPLAY_CHECKPOINT_MISMATCH');
    // Not started yet: a changed file is simply read from the start.
    expect(code(() => resumeCheckpoint(first, 'kafka:p.', [input('/a', 101)], 't1'))).toBeUndefined();
  });

  it('adds sends to the totals, rejections by code', () => {
    let totals = emptyTotals();
    totals = addToTotals(totals, { records: 10, accepted: 8, rejected: 2, events: 8 }, [{ code: 'X', count: 2, example: 'first' }]);
    totals = addToTotals(totals, { records: 5, accepted: 4, rejected: 1, events: 20, snapshots: 1, stale: 1 }, [{ code: 'X', count: 1, example: 'second' }]);
    expect(totals).toEqual({
      records: 15,
      accepted: 12,
      rejected: 3,
      events: 28,
      snapshots: 1,
      staleSnapshots: 1,
      rejectedByCode: { X: { count: 3, example: 'first' } },
    });
  });

  it('writes and reads back; a foreign file is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'calwatch-checkpoint-'));
    dirs.push(dir);
    const path = join(dir, 'sub', 'cp.json');
    expect(await readCheckpoint(path)).toBeUndefined();
    const checkpoint = buildCheckpoint('kafka:p.', [input('/a')], 't0');
    await writeCheckpoint(path, checkpoint);
    expect(await readCheckpoint(path)).toEqual(checkpoint);
    await writeFile(path, '{"format": 2}');
    await expect(readCheckpoint(path)).rejects.toMatchObject({ code: 'REPLAY_CHECKPOINT_INVALID' });
  });
});
