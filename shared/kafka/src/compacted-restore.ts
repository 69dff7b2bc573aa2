import { type RetryOptions, retry } from '@calwatch/runtime';
import type { IncomingRecord, PartitionReader } from './types';

/** A record of a compacted topic: always keyed; a null value is a tombstone. */
export type CompactedRecord = IncomingRecord & { key: string };

export interface CompactedRestoreOptions {
  reader: PartitionReader;
  topic: string;
  partitions: readonly number[];
  /**
   * Called before each read: a retried read starts from the log start again, so state a
   * failed read built up must be dropped here (unless applying records twice is harmless).
   */
  onStart?(attempt: number): void;
  /**
   * Records in log order per partition, up to the end each partition had when the read
   * began. Applied in that order, the last value of a key wins and a tombstone deletes it.
   */
  onRecords(records: readonly CompactedRecord[]): void;
  /** A record without a key, which no compacted state holds: reported, never applied. */
  onKeyless?(record: IncomingRecord): void;
  /** Retries of a failed read (leaderless partitions right after setup); one read when absent. */
  retry?: Pick<RetryOptions, 'retries' | 'minDelayMs' | 'maxDelayMs' | 'onRetry'>;
  /** What a failed read becomes (a service's coded error); its `retriable` decides a retry. */
  describeFailure?(error: unknown): Error;
  /** Progress of a long read, at most once per `intervalMs`. */
  progress?: { intervalMs: number; onProgress(records: number, ms: number): void };
  /** Wall clock (tests pass their own). */
  now?: () => number;
}

export interface CompactedRestoreStats {
  /** Records read by the read that succeeded, keyless ones included. */
  records: number;
  keyless: number;
  /** Reads made, retries included. */
  attempts: number;
  ms: number;
}

function isKeyed(records: readonly IncomingRecord[]): records is readonly CompactedRecord[] {
  for (const record of records) if (record.key === null) return false;
  return true;
}

/**
 * Rebuilds state from a compacted topic: reads the partitions from their start to the
 * high watermark they had when the read began and hands the keyed records over in log
 * order. The one way the collector, the notifier and the processor restore.
 */
export async function restoreCompacted(options: CompactedRestoreOptions): Promise<CompactedRestoreStats> {
  const now = options.now ?? Date.now;
  const started = now();
  let attempts = 0;
  const read = async (): Promise<{ records: number; keyless: number }> => {
    options.onStart?.(attempts);
    attempts++;
    let seen = 0;
    let keyless = 0;
    let lastProgress = now();
    try {
      const { records } = await options.reader.readToEnd(options.topic, options.partitions, (batch) => {
        seen += batch.length;
        // Keyless records are rare: the common batch goes over as it is, without a copy.
        if (isKeyed(batch)) options.onRecords(batch);
        else {
          const keyed: CompactedRecord[] = [];
          for (const record of batch) {
            if (record.key !== null) keyed.push(record as CompactedRecord);
            else {
              keyless++;
              options.onKeyless?.(record);
            }
          }
          options.onRecords(keyed);
        }
        if (options.progress !== undefined && now() - lastProgress >= options.progress.intervalMs) {
          lastProgress = now();
          options.progress.onProgress(seen, lastProgress - started);
        }
      });
      return { records, keyless };
    } catch (error) {
      throw options.describeFailure === undefined ? error : options.describeFailure(error);
    }
  };
  const result = options.retry === undefined ? await read() : await retry(read, options.retry);
  return { ...result, attempts, ms: now() - started };
}
