import { describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { BROKER_DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_RECORD_BYTES } from '@calwatch/model';
import { RECORD_FRAMING_BYTES, keyPrefix, planSends, recordSizeBytes } from './record-size';
import type { OutgoingRecord } from './types';

const rec = (topic: string, key: string | null, value: string | Buffer | null, headers?: Record<string, string>): OutgoingRecord => ({
  topic,
  key,
  value,
  ...(headers === undefined ? {} : { headers }),
});

describe('recordSizeBytes', () => {
  it('counts key, value, header names and values in UTF-8 bytes', () => {
    expect(recordSizeBytes(rec('t', 'abc', 'hello'))).toBe(8);
    // é is two bytes, 😀 four: characters are not bytes.
    expect(recordSizeBytes(rec('t', 'é', '😀', { 'calwatch-at': '12', ü: 'x' }))).toBe(2 + 4 + 11 + 2 + 2 + 1);
    expect(recordSizeBytes(rec('t', null, Buffer.alloc(1000)))).toBe(1000);
    expect(recordSizeBytes(rec('t', 'k', null))).toBe(1);
  });

  it('default limit stays under the broker default max.message.bytes', () => {
    expect(DEFAULT_MAX_RECORD_BYTES).toBeLessThan(BROKER_DEFAULT_MAX_MESSAGE_BYTES - 61);
  });
});

describe('planSends', () => {
  const limit = { maxBytes: 100 };

  it('refuses a record over its limit before anything is planned, naming topic, key and sizes', () => {
    const key = 'k'.repeat(500);
    let caught: unknown;
    try {
      planSends([rec('small', 'ok', 'x'), { ...rec('big', key, 'v'.repeat(550 - 500)), partition: 3 }], { maxBytes: 300 });
    } catch (error) {
      caught = error;
    }
    expect(isCalwatchError(caught, 'SHARED_KAFKA_RECORD_TOO_LARGE')).toBe(true);
    const error = caught as Error & { context: Record<string, unknown>; retriable: boolean };
    expect(error.retriable).toBe(false);
    expect(error.context).toMatchObject({ topic: 'big', partition: 3, sizeBytes: 550, limitBytes: 300, key: keyPrefix(key) });
    expect(error.message).toContain('big[3]');
    expect(error.message).toContain('550 bytes');
    expect(error.message).toContain('300 bytes');
    expect((error.context.key as string).length).toBeLessThan(100);
  });

  it('splits records in order into runs within the byte (framing included) and record limits', () => {
    const records = Array.from({ length: 7 }, (_, i) => rec(i % 2 === 0 ? 'a' : 'b', `k${i}`, 'v'.repeat(38)));
    const runs = planSends(records, { maxBytes: 200 });
    expect(runs.flat()).toEqual(records);
    for (const run of runs) expect(run.reduce((n, r) => n + recordSizeBytes(r) + RECORD_FRAMING_BYTES, 0)).toBeLessThanOrEqual(200);
    expect(runs.map((r) => r.length)).toEqual([2, 2, 2, 1]);
    // 2,500 records of 400 bytes: 1 MB of values, and 100 kB of framing an uncompressed batch adds.
    const many = Array.from({ length: 2_500 }, (_, i) => rec('a', `k${i % 9}`, 'v'.repeat(398)));
    for (const run of planSends(many, { maxBytes: DEFAULT_MAX_RECORD_BYTES })) {
      expect(run.reduce((n, r) => n + recordSizeBytes(r) + 20, 61)).toBeLessThan(BROKER_DEFAULT_MAX_MESSAGE_BYTES);
    }
    const small = Array.from({ length: 5 }, (_, i) => rec('a', `k${i}`, 'v'));
    expect(planSends(small, { maxBytes: 1_000, maxRecords: 2 }).map((r) => r.length)).toEqual([2, 2, 1]);
  });

  it('keeps one run when everything fits', () => {
    expect(planSends([rec('a', 'k', 'v'), rec('b', 'k', 'v')], limit)).toHaveLength(1);
    expect(planSends([], limit)).toEqual([]);
  });
});
