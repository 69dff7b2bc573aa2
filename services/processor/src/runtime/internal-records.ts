import { z } from 'zod';
import {
  CALWATCH_VERSION,
  type DeadLetter,
  type EnrichedEvent,
  type Finding,
  type IncomingRecord,
  type OutgoingRecord,
} from '@calwatch/shared';
import type { CoreErrorCode } from '../core/index';
import type { ProcessorErrorCode } from '../errors';
import type { OrderKey } from './order-key';

/** Headers on every record the runtime writes to a repartition topic. */
export const HEADER_AT = 'calwatch-at';
export const HEADER_ORDER = 'calwatch-order';
export const HEADER_SOURCE = 'calwatch-source';
export const HEADER_KIND = 'calwatch-kind';
export const HEADER_REVISION = 'calwatch-revision';
export const HEADER_CODE = 'calwatch-code';
export const HEADER_ORIGIN = 'calwatch-origin';

/** `<topic>:<partition>`: the task that produced a record, as downstream tracks it. */
export function buildSourceId(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/**
 * A task's promise to every partition downstream: nothing it sends from now on has an
 * event time below `at` (null: it has not seen any). `idle` says it holds nothing and has
 * no input, so downstream need not wait for it.
 */
export const Watermark = z.object({
  type: z.literal('watermark'),
  source: z.string().min(1),
  at: z.number().nullable(),
  idle: z.boolean(),
});
export type Watermark = z.infer<typeof Watermark>;

export function buildWatermarkRecords(topic: string, partitions: number, watermark: Watermark): OutgoingRecord[] {
  const value = JSON.stringify(watermark);
  const records: OutgoingRecord[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    records.push({ topic, partition, key: watermark.source, value, headers: { [HEADER_KIND]: 'watermark', [HEADER_SOURCE]: watermark.source } });
  }
  return records;
}

/** A stage message on its way to the task that owns `key` downstream. */
export function buildMessageRecord(topic: string, key: string, message: unknown, orderKey: OrderKey, source: string): OutgoingRecord {
  return {
    topic,
    key,
    value: JSON.stringify(message),
    headers: {
      [HEADER_KIND]: 'message',
      [HEADER_AT]: String(orderKey.at),
      [HEADER_ORDER]: orderKey.order,
      [HEADER_SOURCE]: source,
    },
  };
}

export function buildFindingRecord(topic: string, finding: Finding, orderKey: OrderKey, source: string): OutgoingRecord {
  return {
    topic,
    key: finding.id,
    value: JSON.stringify(finding),
    headers: {
      [HEADER_REVISION]: String(finding.revision),
      [HEADER_AT]: String(orderKey.at),
      [HEADER_ORDER]: orderKey.order,
      [HEADER_SOURCE]: source,
    },
  };
}

export function buildEnrichedRecord(topic: string, key: string, enriched: EnrichedEvent, orderKey: OrderKey, source: string): OutgoingRecord {
  return {
    topic,
    key,
    value: JSON.stringify(enriched),
    headers: { [HEADER_AT]: String(orderKey.at), [HEADER_ORDER]: orderKey.order, [HEADER_SOURCE]: source },
  };
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

/** `topic[partition]@offset`: where the original record is, to find or re-send it. */
export function describeLocation(location: DeadLetterDraft['location']): string {
  return `${location.topic}[${location.partition}]${location.offset === null ? '' : `@${location.offset}`}`;
}

/** The dead-letter record, keyed like the original so a fixed copy can be re-sent as is. */
export function buildDeadLetterRecord(topic: string, draft: DeadLetterDraft, atMs: number): OutgoingRecord {
  const offset = draft.location.offset === null ? Number.NaN : Number(draft.location.offset);
  const ref = describeLocation(draft.location);
  const deadLetter: DeadLetter = {
    schemaVersion: 1,
    at: new Date(atMs).toISOString(),
    code: draft.code,
    reason: draft.reason,
    location: { ref, line: null, record: Number.isSafeInteger(offset) ? offset : null, field: null },
    issues: (draft.issues ?? []).slice(0, 50).map((i) => ({ path: i.path, message: i.message })),
    originalBase64: (draft.value ?? Buffer.alloc(0)).toString('base64'),
  };
  return {
    topic,
    key: draft.key,
    value: JSON.stringify(deadLetter),
    headers: { [HEADER_ORIGIN]: `processor ${CALWATCH_VERSION}`, [HEADER_CODE]: draft.code, [HEADER_SOURCE]: ref },
  };
}

export function zodIssues(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

export type ParsedJson = { ok: true; value: unknown } | { ok: false; reason: string };

export function parseJson(value: Buffer | null): ParsedJson {
  if (value === null || value.length === 0) return { ok: false, reason: 'empty record (no value)' };
  try {
    return { ok: true, value: JSON.parse(value.toString('utf8')) };
  } catch (error) {
    return { ok: false, reason: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The order key a message record carries, or why it has none. */
export function readOrderHeaders(record: IncomingRecord): { ok: true; key: OrderKey; source: string } | { ok: false; reason: string } {
  const at = record.headers[HEADER_AT];
  const order = record.headers[HEADER_ORDER];
  const source = record.headers[HEADER_SOURCE];
  if (at === undefined || order === undefined || source === undefined || order === '' || source === '') {
    return { ok: false, reason: `missing ${[HEADER_AT, HEADER_ORDER, HEADER_SOURCE].filter((h) => !record.headers[h]).join(', ')} header` };
  }
  const ms = Number(at);
  if (!Number.isFinite(ms)) return { ok: false, reason: `${HEADER_AT} is not a number: ${at}` };
  return { ok: true, key: { at: ms, order }, source };
}
