import { CalwatchError, SHARED_ERRORS } from '@calwatch/model';
import type { OutgoingRecord } from './types';


function byteLength(value: Buffer | string | null): number {
  if (value === null) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
}

/** Bytes a record carries before compression: key, value, header names and values, UTF-8. */
export function recordSizeBytes(record: OutgoingRecord): number {
  let size = byteLength(record.key) + byteLength(record.value);
  for (const [name, value] of Object.entries(record.headers ?? {})) size += byteLength(name) + byteLength(value);
  return size;
}

const KEY_PREFIX_CHARS = 64;

/** The key as it is named in an error: a readable prefix, never the whole of a huge key. */
export function keyPrefix(key: string | null): string | null {
  if (key === null || key.length <= KEY_PREFIX_CHARS) return key;
  return `${key.slice(0, KEY_PREFIX_CHARS)}…`;
}

/** The coded refusal of a record over its topic's limit, naming topic, partition, key and sizes. */
export function recordTooLarge(record: OutgoingRecord, sizeBytes: number, limitBytes: number): CalwatchError {
  const key = keyPrefix(record.key);
  const where = record.partition === undefined ? record.topic : `${record.topic}[${record.partition}]`;
  return SHARED_ERRORS.create(
    'SHARED_KAFKA_RECORD_TOO_LARGE',
    `record for ${where} key ${JSON.stringify(key)} is ${sizeBytes} bytes, over the limit of ${limitBytes} bytes; not sent`,
    { context: { topic: record.topic, partition: record.partition ?? null, key, sizeBytes, limitBytes } },
  );
}

/**
 * What a v2 record batch adds around each record, at most: length, attributes, timestamp
 * and offset deltas, key and value lengths, header count (varints), and two lengths per
 * header. Thousands of small records in one uncompressed batch add tens of kilobytes: more
 * than the room a topic's record limit leaves under its max.message.bytes.
 */
export const RECORD_FRAMING_BYTES = 40;
const HEADER_FRAMING_BYTES = 10;

/**
 * Splits records, in order, into runs of at most `maxBytes` (summed record sizes with their
 * framing) and `maxRecords`: a client sends a partition's records as one batch, and the
 * broker judges the batch, so many small records must not add up past the limit either
 * (uncompressed, they would). Throws SHARED_KAFKA_RECORD_TOO_LARGE for a record over
 * `maxBytes` on its own, before anything is sent.
 */
export function planSends(records: readonly OutgoingRecord[], limits: { maxBytes: number; maxRecords?: number }): OutgoingRecord[][] {
  const maxRecords = limits.maxRecords ?? Number.POSITIVE_INFINITY;
  const runs: OutgoingRecord[][] = [];
  let run: OutgoingRecord[] = [];
  let runBytes = 0;
  for (const record of records) {
    const size = recordSizeBytes(record);
    if (size > limits.maxBytes) throw recordTooLarge(record, size, limits.maxBytes);
    const framed = size + RECORD_FRAMING_BYTES + (record.headers === undefined ? 0 : Object.keys(record.headers).length * HEADER_FRAMING_BYTES);
    if (run.length > 0 && (runBytes + framed > limits.maxBytes || run.length >= maxRecords)) {
      runs.push(run);
      run = [];
      runBytes = 0;
    }
    run.push(record);
    runBytes += framed;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}
