import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEAD_LETTER_ORIGINAL_MAX_BYTES, DeadLetter } from './dead-letter';
import { type RecordRef, buildRecordDeadLetter, decodeRecord, describeRecordLocation, parseRecordJson } from './record-decoding';

const Sample = z.object({ id: z.string().min(1), count: z.number().int() });
const CODES = { empty: 'TEST_EMPTY', notJson: 'TEST_NOT_JSON', invalid: 'TEST_INVALID' } as const;
const AT = '2024-06-12T10:00:00.000Z';

function record(value: string | Buffer | null, offset: string | null = '42'): RecordRef {
  return { topic: 'calwatch.findings', partition: 3, offset, value: value === null ? null : Buffer.from(value) };
}

function problemOf(ref: RecordRef) {
  const decoded = decodeRecord(ref, Sample, { codes: CODES, what: 'sample' });
  if (decoded.ok) throw new Error('expected a problem');
  return decoded.problem;
}

describe('decodeRecord', () => {
  it('returns the value the schema makes of the JSON', () => {
    const json = '{"id":"a","count":7,"extra":true}';
    expect(decodeRecord(record(json), Sample, { codes: CODES, what: 'sample' })).toEqual({ ok: true, value: Sample.parse(JSON.parse(json)) });
  });

  it('gives bad JSON, an empty record and a schema failure their own codes, with the issues', () => {
    const notJson = problemOf(record('{oops'));
    expect(notJson.code).toBe('TEST_NOT_JSON');
    expect(notJson.reason).toMatch(/^sample: not JSON: /);
    expect(notJson.issues).toEqual([]);
    expect(problemOf(record(null)).code).toBe('TEST_EMPTY');
    expect(problemOf(record('')).code).toBe('TEST_EMPTY');
    const invalid = problemOf(record('{"id":"","count":1.5}'));
    expect(invalid.code).toBe('TEST_INVALID');
    expect(invalid.reason).toBe('sample: does not match the schema');
    expect(invalid.issues.map((i) => i.path).sort()).toEqual(['count', 'id']);
  });

  it('dead-letters an oversized record with the first 64 KiB of the original and its full length', () => {
    const huge = Buffer.from(`{"id":"${'x'.repeat(3 * DEAD_LETTER_ORIGINAL_MAX_BYTES)}`);
    const ref = record(huge);
    const letter = DeadLetter.parse(buildRecordDeadLetter(ref, problemOf(ref), AT));
    expect(letter.code).toBe('TEST_NOT_JSON');
    expect(Buffer.from(letter.originalBase64, 'base64').equals(huge.subarray(0, DEAD_LETTER_ORIGINAL_MAX_BYTES))).toBe(true);
    expect(letter.originalBytes).toBe(huge.length);
    expect(Buffer.byteLength(JSON.stringify(letter))).toBeLessThan(2 * DEAD_LETTER_ORIGINAL_MAX_BYTES);
  });

  it('names where the record is in one format, the offset as the record number', () => {
    const ref = record('{oops');
    const letter = DeadLetter.parse(buildRecordDeadLetter(ref, { ...problemOf(ref), field: 'id' }, AT));
    expect(letter.location).toEqual({ ref: 'calwatch.findings[3]@42', line: null, record: 42, field: 'id' });
    expect(Buffer.from(letter.originalBase64, 'base64').toString()).toBe('{oops');
    expect(letter.originalBytes).toBeUndefined();
    expect(describeRecordLocation({ topic: 't', partition: 0, offset: null })).toBe('t[0]');
    // Offsets past 2^53 stay exact in the reference and are not a record number.
    const far = buildRecordDeadLetter(record('x', '18446744073709551615'), { code: 'C', reason: 'r', issues: [] }, AT);
    expect(far.location.ref).toBe('calwatch.findings[3]@18446744073709551615');
    expect(far.location.record).toBeNull();
  });

  it('parses record JSON without throwing', () => {
    expect(parseRecordJson(Buffer.from('[1,2]'))).toEqual({ ok: true, value: [1, 2] });
    expect(parseRecordJson(Buffer.from('nope'))).toMatchObject({ ok: false, empty: false });
    expect(parseRecordJson(null)).toMatchObject({ ok: false, empty: true });
  });
});
