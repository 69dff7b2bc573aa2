import { SHARED_ERRORS, isCalwatchError } from '@calwatch/model';
import { describe, expect, it } from 'vitest';
import { type CompactedRecord, restoreCompacted } from './compacted-restore';
import type { IncomingRecord, PartitionReader } from './types';

function rec(partition: number, offset: number, key: string | null, value: string | null): IncomingRecord {
  return { topic: 'state', partition, offset: String(offset), key, value: value === null ? null : Buffer.from(value), headers: {}, timestamp: '0' };
}

/** A reader over fixed batches; `failures` reads fail before handing anything over. */
function fakeReader(batches: IncomingRecord[][], failures: Error[] = []): PartitionReader & { reads: number; asked: number[][] } {
  const reader = {
    reads: 0,
    asked: [] as number[][],
    async readToEnd(_topic: string, partitions: readonly number[], onRecords: (records: readonly IncomingRecord[]) => void | Promise<void>) {
      reader.reads++;
      reader.asked.push([...partitions]);
      const failure = failures.shift();
      if (failure !== undefined) {
        // Part of the log was handed over before the read broke.
        await onRecords(batches[0] ?? []);
        throw failure;
      }
      let records = 0;
      for (const batch of batches) {
        const wanted = batch.filter((r) => partitions.includes(r.partition));
        records += wanted.length;
        await onRecords(wanted);
      }
      return { records };
    },
  };
  return reader;
}

describe('restoreCompacted', () => {
  it('hands keyed records over in log order, tombstones as null, and reports keyless ones without applying them', async () => {
    const batches = [
      [rec(0, 0, 'a', '1'), rec(0, 1, 'b', '2'), rec(0, 2, null, 'x')],
      [rec(0, 3, 'a', '3'), rec(0, 4, 'b', null)],
      [rec(1, 0, 'c', '9')],
    ];
    const reader = fakeReader(batches);
    const state = new Map<string, string>();
    const keyless: IncomingRecord[] = [];
    const seen: CompactedRecord[] = [];
    const stats = await restoreCompacted({
      reader,
      topic: 'state',
      partitions: [0],
      onRecords: (batch) => {
        for (const r of batch) {
          seen.push(r);
          if (r.value === null) state.delete(r.key);
          else state.set(r.key, r.value.toString());
        }
      },
      onKeyless: (r) => keyless.push(r),
    });
    const partition0 = batches.flat().filter((r) => r.partition === 0);
    expect(seen).toEqual(partition0.filter((r) => r.key !== null));
    expect(keyless).toEqual(partition0.filter((r) => r.key === null));
    expect([...state]).toEqual([['a', '3']]);
    expect(stats).toMatchObject({ records: partition0.length, keyless: 1, attempts: 1 });
    expect(reader.asked).toEqual([[0]]);
  });

  it('retries a failed read from the start, telling the caller before each read', async () => {
    const batches = [[rec(0, 0, 'a', '1')], [rec(0, 1, 'a', '2')]];
    const reader = fakeReader(batches, [SHARED_ERRORS.create('SHARED_KAFKA_UNAVAILABLE', 'no leader')]);
    const starts: number[] = [];
    const retries: number[] = [];
    let applied: string[] = [];
    const stats = await restoreCompacted({
      reader,
      topic: 'state',
      partitions: [0],
      onStart: (attempt) => {
        starts.push(attempt);
        applied = [];
      },
      onRecords: (batch) => {
        for (const r of batch) applied.push(r.value!.toString());
      },
      retry: { retries: 3, minDelayMs: 1, maxDelayMs: 1, onRetry: (_error, attempt) => retries.push(attempt) },
    });
    expect(starts).toEqual([0, 1]);
    expect(retries).toEqual([1]);
    expect(applied).toEqual(batches.flat().map((r) => r.value!.toString()));
    expect(stats).toMatchObject({ records: 2, attempts: 2 });
  });

  it('turns a failure into the caller’s error, whose retriable flag decides a retry', async () => {
    const cause = new Error('broker gone');
    const reader = fakeReader([], [cause, cause]);
    const restore = restoreCompacted({
      reader,
      topic: 'state',
      partitions: [0],
      onRecords: () => undefined,
      describeFailure: (error) => SHARED_ERRORS.create('SHARED_KAFKA_OUTAGE_EXCEEDED', 'restore failed', { cause: error }),
      retry: { retries: 5, minDelayMs: 1, maxDelayMs: 1 },
    });
    const error = await restore.catch((e: unknown) => e);
    expect(isCalwatchError(error, 'SHARED_KAFKA_OUTAGE_EXCEEDED')).toBe(true);
    expect((error as Error).cause).toBe(cause);
    // Not retriable: one read only.
    expect(reader.reads).toBe(1);
  });

  it('reports the progress of a long read on the clock it is given', async () => {
    let clock = 0;
    const batches = Array.from({ length: 10 }, (_, i) => [rec(0, i, 'k', String(i))]);
    const progress: Array<[number, number]> = [];
    await restoreCompacted({
      reader: fakeReader(batches),
      topic: 'state',
      partitions: [0],
      onRecords: () => {
        clock += 400;
      },
      progress: { intervalMs: 1_000, onProgress: (records, ms) => progress.push([records, ms]) },
      now: () => clock,
    });
    // Each report comes once a second has passed since the previous one, with the records so far.
    expect(progress.length).toBeGreaterThan(1);
    let previous = 0;
    for (const [records, ms] of progress) {
      expect(ms - previous).toBeGreaterThanOrEqual(1_000);
      expect(ms - previous).toBeLessThan(1_000 + 400);
      expect(records).toBe(ms / 400);
      previous = ms;
    }
  });
});
