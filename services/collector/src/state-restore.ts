import type { IncomingRecord, KafkaClient, Logger } from '@calwatch/shared';
import { COLLECTOR_ERRORS } from './errors';
import { CollectorServerState } from './server-state';
import type { SnapshotCoordinator } from './snapshot-coordinator';

export interface RestoreStats {
  records: number;
  servers: number;
  invalid: number;
}

/**
 * Applies records of the snapshot-state topic in log order: the last value per license
 * server wins, a tombstone forgets the server, an undecodable value is skipped (logged)
 * rather than stopping the collector.
 */
export function applyStateRecords(records: readonly IncomingRecord[], coordinator: SnapshotCoordinator, logger: Logger): number {
  let invalid = 0;
  for (const record of records) {
    if (record.key === null) continue;
    if (record.value === null) {
      coordinator.forget(record.key);
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(record.value.toString('utf8'));
    } catch {
      json = undefined;
    }
    const parsed = CollectorServerState.safeParse(json);
    if (!parsed.success || parsed.data.licenseServer !== record.key) {
      invalid += 1;
      logger.warn(
        { code: 'COLLECTOR_STATE_INVALID', key: record.key, partition: record.partition, offset: record.offset, issues: parsed.error?.issues.slice(0, 5) },
        'snapshot state record skipped',
      );
      continue;
    }
    coordinator.restore(parsed.data);
  }
  return invalid;
}

/** Reads the whole compacted snapshot-state topic (every partition) into the coordinator. */
export async function restoreSnapshotState(options: {
  kafka: KafkaClient;
  topic: string;
  partitions: number;
  coordinator: SnapshotCoordinator;
  logger: Logger;
}): Promise<RestoreStats> {
  const { coordinator, logger } = options;
  let invalid = 0;
  try {
    const partitions = Array.from({ length: options.partitions }, (_, i) => i);
    const { records } = await options.kafka.createPartitionReader().readToEnd(options.topic, partitions, (batch) => {
      invalid += applyStateRecords(batch, coordinator, logger);
    });
    return { records, servers: coordinator.servers, invalid };
  } catch (error) {
    throw COLLECTOR_ERRORS.create('COLLECTOR_STATE_RESTORE_FAILED', `could not read ${options.topic} to its end`, { cause: error });
  }
}
