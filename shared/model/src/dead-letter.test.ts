import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_ORIGINAL_MAX_BYTES, DeadLetter, boundDeadLetter, buildDeadLetterOriginal } from './dead-letter';

/** The broker's default largest record (message.max.bytes). */
const BROKER_MAX_RECORD_BYTES = 1_048_588;

describe('dead-letter bounds', () => {
  it('keeps a small original whole and cuts a large one to its first bytes, recording the full length', () => {
    expect(buildDeadLetterOriginal('abc')).toEqual({ originalBase64: Buffer.from('abc').toString('base64') });
    const large = Buffer.alloc(5 * DEAD_LETTER_ORIGINAL_MAX_BYTES, 0x20);
    large.write('head', 0);
    const cut = buildDeadLetterOriginal(large);
    const kept = Buffer.from(cut.originalBase64, 'base64');
    expect(kept.equals(large.subarray(0, DEAD_LETTER_ORIGINAL_MAX_BYTES))).toBe(true);
    expect(cut.originalBytes).toBe(large.length);
  });

  it('fits the topic whatever the input: reason, issues, location and original bounded', () => {
    const huge = 'x'.repeat(4 << 20);
    const letter = boundDeadLetter({
      schemaVersion: 1,
      at: '2024-06-20T00:00:00.000Z',
      code: 'INGEST_XML_SYNTAX',
      reason: huge,
      location: { ref: huge, line: 1, record: 1, field: huge },
      issues: Array.from({ length: 10_000 }, () => ({ path: huge.slice(0, 10_000), message: huge.slice(0, 10_000) })),
      ...buildDeadLetterOriginal(huge),
    });
    expect(DeadLetter.safeParse(letter).success).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(letter))).toBeLessThan(BROKER_MAX_RECORD_BYTES / 2);
    expect(letter.reason.startsWith('xxx')).toBe(true);
  });
});
