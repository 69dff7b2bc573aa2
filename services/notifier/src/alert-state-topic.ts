import type { OutgoingRecord, PartitionReader } from '@calwatch/kafka';
import type { StateRecord } from './notifier-core';

/**
 * The notifier's state on the compacted alert-state topic. Every record goes to partition
 * 0: one produce request appends one batch there atomically, so the alerts, the outbox
 * and the input offsets they reflect are written all together or not at all.
 */
export const STATE_PARTITION = 0;

export function toStateRecords(topic: string, records: readonly StateRecord[]): OutgoingRecord[] {
  return records.map((r) => ({
    topic,
    key: r.key,
    value: r.value === null ? null : JSON.stringify(r.value),
    partition: STATE_PARTITION,
  }));
}

export interface RestoreStats {
  records: number;
  unreadable: number;
}

/** Reads the state partition to its end; `onRecord` gets null for a tombstone. */
export async function readStateTopic(
  reader: PartitionReader,
  topic: string,
  onRecord: (key: string, value: unknown) => void,
  onUnreadable: (key: string, reason: string) => void,
): Promise<RestoreStats> {
  let unreadable = 0;
  const { records } = await reader.readToEnd(topic, [STATE_PARTITION], (batch) => {
    for (const record of batch) {
      if (record.key === null) {
        unreadable++;
        onUnreadable('(no key)', 'record without key');
        continue;
      }
      if (record.value === null) {
        onRecord(record.key, null);
        continue;
      }
      try {
        onRecord(record.key, JSON.parse(record.value.toString('utf8')) as unknown);
      } catch {
        unreadable++;
        onUnreadable(record.key, 'not JSON');
      }
    }
  });
  return { records, unreadable };
}
