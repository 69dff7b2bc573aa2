import { type IncomingRecord, type OutgoingRecord } from '@calwatch/kafka';
import { type DeadLetter, buildRecordDeadLetter, describeRecordLocation } from '@calwatch/model';
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

export function buildDeadLetter(draft: DeadLetterDraft, at: string): DeadLetter {
  return buildRecordDeadLetter(draft.record, draft, at);
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
