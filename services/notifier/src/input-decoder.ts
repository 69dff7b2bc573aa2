import { type IncomingRecord } from '@calwatch/kafka';
import { type DeadLetter, type EnrichedEvent, EnrichedEventRecord, type Finding, FindingRecord, buildRecordDeadLetter, decodeRecord } from '@calwatch/model';
import type { z } from 'zod';
import type { NotifierErrorCode } from './errors';

export type Decoded<T> = { ok: true; value: T } | { ok: false; deadLetter: DeadLetter };

function decode<S extends z.ZodType>(schema: S, code: NotifierErrorCode, what: string, record: IncomingRecord, at: string): Decoded<z.infer<S>> {
  const decoded = decodeRecord(record, schema, { codes: { empty: code, notJson: code, invalid: code }, what });
  return decoded.ok ? decoded : { ok: false, deadLetter: buildRecordDeadLetter(record, decoded.problem, at) };
}

export function decodeFinding(record: IncomingRecord, at: string): Decoded<Finding> {
  return decode(FindingRecord, 'NOTIFIER_INVALID_FINDING', 'finding', record, at);
}

export function decodeEnriched(record: IncomingRecord, at: string): Decoded<EnrichedEvent> {
  return decode(EnrichedEventRecord, 'NOTIFIER_INVALID_ENRICHED', 'enriched event', record, at);
}
