import type { IngestRejectionCode } from './rejection-codes';
import type { ParsedItem, Rejection } from './types';
import type { FieldProblem } from './wmi-records';

export interface RecordLocation {
  ref: string;
  line: number | null;
  record: number | null;
}

/** A `rejected` item; `original` is the record's text (stored as UTF-8 bytes). */
export function rejected(
  at: RecordLocation,
  code: IngestRejectionCode,
  reason: string,
  original: string | Buffer,
  extra: { field?: string | null; issues?: { path: string; message: string }[] } = {},
): ParsedItem {
  const rejection: Rejection = {
    code,
    reason: `${describe(at)}: ${reason}`,
    ref: at.ref,
    line: at.line,
    record: at.record,
    field: extra.field ?? null,
    issues: extra.issues ?? [],
    original: typeof original === 'string' ? Buffer.from(original, 'utf8') : original,
  };
  return { kind: 'rejected', rejection };
}

/** One rejection naming every field problem of a row; the first problem sets code and field. */
export function rejectedRow(at: RecordLocation, problems: FieldProblem[], original: string): ParsedItem {
  const [first, ...rest] = problems;
  const reason = first === undefined ? 'the record was rejected' : first.message;
  const more = rest.length === 0 ? '' : `; also ${rest.map((p) => p.message).join('; ')}`;
  return rejected(at, first?.code ?? 'INGEST_SCHEMA_INVALID', `${reason}${more}`, original, {
    field: first?.field ?? null,
    issues: problems.map((p) => ({ path: p.field, message: p.message })),
  });
}

function describe(at: RecordLocation): string {
  const parts = [at.ref];
  if (at.line !== null) parts.push(`line ${at.line}`);
  if (at.record !== null) parts.push(`record ${at.record}`);
  return parts.join(', ');
}
