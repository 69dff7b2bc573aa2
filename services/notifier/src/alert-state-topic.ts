import { type CompactedRestoreOptions, type OutgoingRecord, type PartitionReader, restoreCompacted } from '@calwatch/kafka';
import { parseRecordJson } from '@calwatch/model';
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

/**
 * Reads the state partition to its end; `onRecord` gets null for a tombstone. Re-reading from
 * the start (a retried read) is harmless: the last value of each key wins again.
 */
export async function readStateTopic(
  reader: PartitionReader,
  topic: string,
  onRecord: (key: string, value: unknown) => void,
  onUnreadable: (key: string, reason: string) => void,
  retry?: CompactedRestoreOptions['retry'],
): Promise<RestoreStats> {
  let unreadable = 0;
  const { records } = await restoreCompacted({
    reader,
    topic,
    partitions: [STATE_PARTITION],
    onStart: () => {
      unreadable = 0;
    },
    onKeyless: () => {
      unreadable++;
      onUnreadable('(no key)', 'record without key');
    },
    onRecords: (batch) => {
      for (const record of batch) {
        if (record.value === null) {
          onRecord(record.key, null);
          continue;
        }
        const json = parseRecordJson(record.value);
        if (json.ok) onRecord(record.key, json.value);
        else {
          unreadable++;
          onUnreadable(record.key, json.reason);
        }
      }
    },
    ...(retry === undefined ? {} : { retry }),
  });
  return { records, unreadable };
}
