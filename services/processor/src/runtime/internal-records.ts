import { type IncomingRecord, type OutgoingRecord } from '@calwatch/kafka';
import { type EnrichedEvent, type Finding, type Revocation, buildRecordDeadLetter, describeRecordLocation } from '@calwatch/model';
import { CALWATCH_VERSION } from '@calwatch/runtime';
import type { CoreErrorCode } from '../core/index';
import type { ProcessorErrorCode } from '../errors';

/** Headers on the records the processor writes. */
export const HEADER_AT = 'calwatch-at';
export const HEADER_SOURCE = 'calwatch-source';
export const HEADER_REVISION = 'calwatch-revision';
export const HEADER_CODE = 'calwatch-code';
export const HEADER_ORIGIN = 'calwatch-origin';

/** `<topic>:<partition>`: the task that produced a record. */
export function buildSourceId(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** A finding update; `at` is the event time of the step that produced it. */
export function buildFindingRecord(topic: string, finding: Finding, at: number, source: string): OutgoingRecord {
  return {
    topic,
    key: finding.id,
    value: JSON.stringify(finding),
    headers: { [HEADER_REVISION]: String(finding.revision), [HEADER_AT]: String(at), [HEADER_SOURCE]: source },
  };
}

/**
 * An enriched event: one per input event, so the processor's largest output. No headers: the
 * event carries its own time and server, no consumer reads a header here, and the client's
 * encoding of two headers added half to all of the CPU it spent on each record.
 */
export function buildEnrichedRecord(topic: string, key: string, enriched: EnrichedEvent): OutgoingRecord {
  return { topic, key, value: JSON.stringify(enriched) };
}

/** A change of one planned revocation, keyed by license server and license id. */
export function buildRevocationRecord(topic: string, key: string, revocation: Revocation, at: number, source: string): OutgoingRecord {
  return { topic, key, value: JSON.stringify(revocation), headers: { [HEADER_AT]: String(at), [HEADER_SOURCE]: source } };
}

/** Why an input is set aside, before it becomes a DeadLetter. */
export interface DeadLetterDraft {
  /** Where the original is: its topic and partition, and its offset when it is still a record. */
  location: { topic: string; partition: number; offset: string | null };
  key: string | null;
  value: Buffer | null;
  code: ProcessorErrorCode | CoreErrorCode;
  reason: string;
  issues?: ReadonlyArray<{ path: string; message: string }>;
}

export function draftFromRecord(
  record: IncomingRecord,
  code: ProcessorErrorCode | CoreErrorCode,
  reason: string,
  issues?: ReadonlyArray<{ path: string; message: string }>,
): DeadLetterDraft {
  return {
    location: { topic: record.topic, partition: record.partition, offset: record.offset },
    key: record.key,
    value: record.value,
    code,
    reason,
    ...(issues === undefined ? {} : { issues }),
  };
}

/** The dead-letter record, keyed like the original so a fixed copy can be re-sent as is. */
export function buildDeadLetterRecord(topic: string, draft: DeadLetterDraft, atMs: number): OutgoingRecord {
  const ref = describeRecordLocation(draft.location);
  const deadLetter = buildRecordDeadLetter(
    { ...draft.location, value: draft.value },
    { code: draft.code, reason: draft.reason, issues: draft.issues ?? [] },
    new Date(atMs).toISOString(),
  );
  return {
    topic,
    key: draft.key,
    value: JSON.stringify(deadLetter),
    headers: { [HEADER_ORIGIN]: `processor ${CALWATCH_VERSION}`, [HEADER_CODE]: draft.code, [HEADER_SOURCE]: ref },
  };
}
