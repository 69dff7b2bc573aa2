import { type IncomingRecord } from '@calwatch/kafka';
import { DEAD_LETTER_ORIGINAL_MAX_BYTES, DeadLetter } from '@calwatch/model';
import { describe, expect, it } from 'vitest';
import { decodeEnriched, decodeFinding } from './input-decoder';
import { T0, enriched, finding, issued } from './test-fixtures';

const AT = '2024-06-12T10:00:00.000Z';

function record(value: string | null, topic = 'calwatch.findings'): IncomingRecord {
  return { topic, partition: 1, offset: '42', key: 'k', value: value === null ? null : Buffer.from(value), headers: {}, timestamp: '0' };
}

describe('input decoding', () => {
  it('accepts valid findings and enriched events', () => {
    expect(decodeFinding(record(JSON.stringify(finding())), AT)).toMatchObject({ ok: true, value: { id: 'f-cloned-1' } });
    expect(decodeEnriched(record(JSON.stringify(enriched(issued(T0))), 'calwatch.enriched'), AT)).toMatchObject({ ok: true, value: { event: { type: 'license.issued' } } });
  });

  it('dead-letters what is not JSON, not the schema, or a tombstone, with the original bytes', () => {
    const cases = [record('{oops'), record(JSON.stringify({ ...finding(), severity: 'apocalyptic' })), record(null)];
    const letters = cases.map((c) => {
      const decoded = decodeFinding(c, AT);
      if (decoded.ok) throw new Error('expected a dead letter');
      return DeadLetter.parse(decoded.deadLetter);
    });
    expect(letters.map((l) => l.code)).toEqual(['NOTIFIER_INVALID_FINDING', 'NOTIFIER_INVALID_FINDING', 'NOTIFIER_INVALID_FINDING']);
    expect(letters.map((l) => l.reason.replace(/^(finding: not JSON).*/, '$1'))).toEqual(['finding: not JSON', 'finding: does not match the schema', 'finding: empty record (no value)']);
    expect(letters[0]!.location).toMatchObject({ ref: 'calwatch.findings[1]@42', record: 42 });
    expect(Buffer.from(letters[0]!.originalBase64, 'base64').toString()).toBe('{oops');
    expect(letters[1]!.issues).toEqual([{ path: 'severity', message: expect.any(String) }]);
    const enrichedLetter = decodeEnriched(record('[]', 'calwatch.enriched'), AT);
    expect(enrichedLetter.ok ? null : enrichedLetter.deadLetter.code).toBe('NOTIFIER_INVALID_ENRICHED');
  });

  it('cuts the original of a huge record to a fixed prefix and records its full length', () => {
    const huge = `{"oops":"${'x'.repeat(3 * DEAD_LETTER_ORIGINAL_MAX_BYTES)}`;
    const decoded = decodeFinding(record(huge), AT);
    if (decoded.ok) throw new Error('expected a dead letter');
    const letter = DeadLetter.parse(decoded.deadLetter);
    expect(Buffer.from(letter.originalBase64, 'base64').length).toBe(DEAD_LETTER_ORIGINAL_MAX_BYTES);
    expect(letter.originalBytes).toBe(Buffer.byteLength(huge));
    expect(Buffer.byteLength(JSON.stringify(letter))).toBeLessThan(2 * DEAD_LETTER_ORIGINAL_MAX_BYTES);
  });
});
