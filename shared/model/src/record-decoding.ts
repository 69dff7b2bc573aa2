import type { z } from 'zod';
import { type DeadLetter, boundDeadLetter, buildDeadLetterOriginal } from './dead-letter';

/** Where a Kafka record is and what it holds: enough to decode it and dead-letter it. */
export interface RecordRef {
  topic: string;
  partition: number;
  /** Decimal string; null for a problem of a whole partition rather than one record. */
  offset: string | null;
  value: Buffer | null;
}

export interface RecordIssue {
  path: string;
  message: string;
}

/** Why a record is set aside: what a dead letter of it says besides where and the original. */
export interface RecordProblem<C extends string = string> {
  code: C;
  reason: string;
  issues: RecordIssue[];
}

/** The codes a consumer gives each way a record can fail to decode (its own error table's). */
export interface RecordDecodeCodes<C extends string = string> {
  /** No value, or an empty one (a tombstone on a topic that has none). */
  empty: C;
  notJson: C;
  /** JSON that the schema refuses. */
  invalid: C;
}

export type RecordDecoding<T, C extends string = string> = { ok: true; value: T } | { ok: false; problem: RecordProblem<C> };

export type ParsedRecordJson = { ok: true; value: unknown } | { ok: false; empty: boolean; reason: string };

/**
 * `topic[partition]@offset`: the one way calwatch names where a Kafka record is, in dead
 * letters, their `calwatch-source` header and logs (`topic[partition]` when no record).
 */
export function describeRecordLocation(record: Pick<RecordRef, 'topic' | 'partition' | 'offset'>): string {
  return `${record.topic}[${record.partition}]${record.offset === null ? '' : `@${record.offset}`}`;
}

/** The JSON of a record's value; an absent or empty value and bad JSON are failures, never throws. */
export function parseRecordJson(value: Buffer | null): ParsedRecordJson {
  if (value === null || value.length === 0) return { ok: false, empty: true, reason: 'empty record (no value)' };
  try {
    return { ok: true, value: JSON.parse(value.toString('utf8')) as unknown };
  } catch (error) {
    return { ok: false, empty: false, reason: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export function toRecordIssues(error: z.ZodError): RecordIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
}

/**
 * Decodes one Kafka record's JSON value with its zod schema: the value, or the problem its
 * dead letter states (`what` names the record in the reason, e.g. "finding").
 */
export function decodeRecord<S extends z.ZodType, C extends string>(
  record: Pick<RecordRef, 'value'>,
  schema: S,
  options: { codes: RecordDecodeCodes<C>; what: string },
): RecordDecoding<z.infer<S>, C> {
  const json = parseRecordJson(record.value);
  if (!json.ok) {
    return { ok: false, problem: { code: json.empty ? options.codes.empty : options.codes.notJson, reason: `${options.what}: ${json.reason}`, issues: [] } };
  }
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) {
    return { ok: false, problem: { code: options.codes.invalid, reason: `${options.what}: does not match the schema`, issues: toRecordIssues(parsed.error) } };
  }
  return { ok: true, value: parsed.data };
}

/**
 * The dead letter of a Kafka record: its location in the one format, the offset as its
 * record number, the first bytes of the original and its length, bounded to fit the topic.
 */
export function buildRecordDeadLetter(
  record: RecordRef,
  problem: { code: string; reason: string; issues: readonly RecordIssue[]; field?: string | null },
  at: string,
): DeadLetter {
  const offset = record.offset === null ? Number.NaN : Number(record.offset);
  return boundDeadLetter({
    schemaVersion: 1,
    at,
    code: problem.code,
    reason: problem.reason,
    location: { ref: describeRecordLocation(record), line: null, record: Number.isSafeInteger(offset) ? offset : null, field: problem.field ?? null },
    issues: problem.issues.map((issue) => ({ path: issue.path, message: issue.message })),
    ...buildDeadLetterOriginal(record.value ?? Buffer.alloc(0)),
  });
}
