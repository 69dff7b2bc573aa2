import { type IncomingRecord } from '@calwatch/kafka';
import { type EnrichedEvent, EnrichedEventRecord, type Finding, FindingRecord, type DeadLetter, boundDeadLetter, buildDeadLetterOriginal } from '@calwatch/model';
import type { z } from 'zod';
import type { NotifierErrorCode } from './errors';

export type Decoded<T> = { ok: true; value: T } | { ok: false; deadLetter: DeadLetter };

function deadLetterOf(record: IncomingRecord, code: NotifierErrorCode, reason: string, issues: DeadLetter['issues'], at: string): DeadLetter {
  return boundDeadLetter({
    schemaVersion: 1,
    at,
    code,
    reason,
    location: { ref: `${record.topic}/${record.partition}@${record.offset}`, line: null, record: null, field: null },
    issues,
    ...buildDeadLetterOriginal(record.value ?? Buffer.alloc(0)),
  });
}

function decode<S extends z.ZodType>(schema: S, code: NotifierErrorCode, what: string, record: IncomingRecord, at: string): Decoded<z.infer<S>> {
  if (record.value === null) return { ok: false, deadLetter: deadLetterOf(record, code, `${what}: empty record (tombstone)`, [], at) };
  let json: unknown;
  try {
    json = JSON.parse(record.value.toString('utf8'));
  } catch {
    return { ok: false, deadLetter: deadLetterOf(record, code, `${what}: not JSON`, [], at) };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    return { ok: false, deadLetter: deadLetterOf(record, code, `${what}: does not match the schema`, issues, at) };
  }
  return { ok: true, value: parsed.data };
}

export function decodeFinding(record: IncomingRecord, at: string): Decoded<Finding> {
  return decode(FindingRecord, 'NOTIFIER_INVALID_FINDING', 'finding', record, at);
}

export function decodeEnriched(record: IncomingRecord, at: string): Decoded<EnrichedEvent> {
  return decode(EnrichedEventRecord, 'NOTIFIER_INVALID_ENRICHED', 'enriched event', record, at);
}

