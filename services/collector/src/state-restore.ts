import { type CompactedRestoreOptions, type IncomingRecord, type KafkaClient, restoreCompacted } from '@calwatch/kafka';
import type { Logger } from '@calwatch/runtime';
import { COLLECTOR_ERRORS } from './errors';
import type { SnapshotCoordinator } from './snapshot-coordinator';
import { createStateAssembler, type StateAssembler } from './state-entries';

export interface RestoreStats {
  records: number;
  servers: number;
  invalid: number;
  /** Servers restored from a whole-state record of an older version. */
  legacy: number;
}

/**
 * Feeds records of the snapshot-state topic to the assembler in log order; an undecodable
 * record is skipped (logged) rather than stopping the collector.
 */
export function applyStateRecords(records: readonly IncomingRecord[], assembler: StateAssembler, logger: Logger): number {
  let invalid = 0;
  for (const record of records) {
    if (record.key === null) continue;
    const problem = assembler.add(record.key, record.value);
    if (problem === undefined) continue;
    invalid += 1;
    logger.warn(
      {
        code: 'COLLECTOR_STATE_INVALID',
        key: record.key,
        licenseServer: problem.licenseServer,
        partition: record.partition,
        offset: record.offset,
        reason: problem.message,
        issues: problem.issues?.slice(0, 5),
      },
      'snapshot state record skipped',
    );
  }
  return invalid;
}

/** How the collector and replay retry a restore: leadership may still be moving right after setup or a broker restart. */
export function snapshotStateRestoreRetry(logger: Logger): NonNullable<CompactedRestoreOptions['retry']> {
  return {
    retries: 8,
    minDelayMs: 250,
    maxDelayMs: 5_000,
    onRetry: (error, attempt, delayMs) => logger.warn({ err: error, attempt, delayMs }, 'snapshot state restore failed; retrying'),
  };
}

/** Reads the whole compacted snapshot-state topic (every partition) into the coordinator. */
export async function restoreSnapshotState(options: {
  kafka: KafkaClient;
  topic: string;
  partitions: number;
  coordinator: SnapshotCoordinator;
  logger: Logger;
  /** Retries of a failed read (leadership may still be moving right after setup); one read when absent. */
  retry?: CompactedRestoreOptions['retry'];
}): Promise<RestoreStats> {
  const { coordinator, logger } = options;
  let assembler = createStateAssembler();
  let invalid = 0;
  const { records } = await restoreCompacted({
    reader: options.kafka.createPartitionReader(),
    topic: options.topic,
    partitions: Array.from({ length: options.partitions }, (_, i) => i),
    // A fresh assembler per read: a retried read starts again from the beginning.
    onStart: () => {
      assembler = createStateAssembler();
      invalid = 0;
    },
    onRecords: (batch) => {
      invalid += applyStateRecords(batch, assembler, logger);
    },
    describeFailure: (error) => COLLECTOR_ERRORS.create('COLLECTOR_STATE_RESTORE_FAILED', `could not read ${options.topic} to its end`, { cause: error }),
    ...(options.retry === undefined ? {} : { retry: options.retry }),
  });
  // Only once every partition is read: a server's head and entries sit in different partitions.
  for (const { state, stored } of assembler.finish()) coordinator.restore(state, stored);
  return { records, servers: coordinator.servers, invalid, legacy: assembler.legacyServers };
}
