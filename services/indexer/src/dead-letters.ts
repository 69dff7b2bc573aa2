import { type IncomingRecord, type OutgoingRecord } from '@calwatch/kafka';
import { boundDeadLetter, buildDeadLetterOriginal, type DeadLetter } from '@calwatch/model';
import type { IndexerErrorCode } from './errors';

/** Why a record is set aside, before it becomes a DeadLetter. */
export interface DeadLetterDraft {
  record: IncomingRecord;
  code: IndexerErrorCode;
  reason: string;
  issues: Array<{ path: string; message: string }>;
  /** The document field Elasticsearch complained about, when it said. */
  field?: string | null;
}

/** `topic[partition]@offset`: where the original record is, to find or re-send it. */
export function describeRecordLocation(record: Pick<IncomingRecord, 'topic' | 'partition' | 'offset'>): string {
  return `${record.topic}[${record.partition}]@${record.offset}`;
}

export function buildDeadLetter(draft: DeadLetterDraft, at: string): DeadLetter {
  const offset = Number(draft.record.offset);
  return boundDeadLetter({
    schemaVersion: 1,
    at,
    code: draft.code,
    reason: draft.reason,
    location: {
      ref: describeRecordLocation(draft.record),
      line: null,
      record: Number.isSafeInteger(offset) ? offset : null,
      field: draft.field ?? null,
    },
    issues: draft.issues,
    ...buildDeadLetterOriginal(draft.record.value ?? Buffer.alloc(0)),
  });
}

/** The dead-letter record, keyed like the original so a fixed copy can be re-sent as is. */
export function buildDeadLetterRecord(draft: DeadLetterDraft, topic: string, at: string): OutgoingRecord {
  return {
    topic,
    key: draft.record.key,
    value: JSON.stringify(buildDeadLetter(draft, at)),
    headers: {
      'calwatch-origin': 'indexer',
      'calwatch-code': draft.code,
      'calwatch-source': describeRecordLocation(draft.record),
    },
  };
}
