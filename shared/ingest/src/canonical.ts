import { CanonicalEvent } from '@calwatch/model';
import { parseNdjson } from './ndjson';
import { rejected } from './rejection';
import type { ParseOptions, ParsedBatch, ParsedItem } from './types';

/** Canonical NDJSON (a replay, `calwatch` output): every line is checked against the schema. */
export function parseCanonical(text: AsyncIterable<string>, options: ParseOptions): AsyncGenerator<ParsedBatch> {
  return parseNdjson(text, options, (record): ParsedItem => {
    const parsed = CanonicalEvent.safeParse(record.value);
    if (parsed.success) return { kind: 'event', event: parsed.data, record: record.record };
    const issues = parsed.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.'),
      message: issue.message,
    }));
    const first = issues[0];
    const where = first === undefined || first.path === '' ? '' : `${first.path}: `;
    return rejected(
      { ref: options.ref, line: record.line, record: record.record },
      'INGEST_SCHEMA_INVALID',
      `not a canonical event (${where}${first?.message ?? 'invalid'}${issues.length > 1 ? `; ${issues.length - 1} more issue(s)` : ''})`,
      record.text,
      { field: first?.path || null, issues },
    );
  });
}
