import type { OutgoingRecord } from './types';

/** Bytes of one record as the broker counts them, near enough: key, value and headers plus the per-record framing. */
export function estimateRecordBytes(record: OutgoingRecord): number {
  let bytes = 24;
  if (record.key !== null) bytes += Buffer.byteLength(record.key);
  if (record.value !== null) bytes += typeof record.value === 'string' ? Buffer.byteLength(record.value) : record.value.length;
  for (const [name, value] of Object.entries(record.headers ?? {})) bytes += Buffer.byteLength(name) + Buffer.byteLength(value) + 4;
  return bytes;
}

/**
 * Cuts records into consecutive produce requests of at most `maxBytes` (uncompressed) and
 * `maxRecords` each, keeping their order; a record larger than that goes alone. The broker
 * refuses a record batch above its max.message.bytes (1 MiB by default) whatever its
 * compression, so a unit of work that writes thousands of records must go out in several.
 */
export function splitIntoRequests(records: readonly OutgoingRecord[], limits: { maxBytes: number; maxRecords?: number }): OutgoingRecord[][] {
  const maxRecords = limits.maxRecords ?? Number.POSITIVE_INFINITY;
  const requests: OutgoingRecord[][] = [];
  let current: OutgoingRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = estimateRecordBytes(record);
    if (current.length > 0 && (current.length >= maxRecords || bytes + size > limits.maxBytes)) {
      requests.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) requests.push(current);
  return requests;
}
