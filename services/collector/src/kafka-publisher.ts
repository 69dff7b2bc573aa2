import { type OutgoingRecord, type Producer, planSends } from '@calwatch/kafka';
import { type CanonicalEvent, type DeadLetter } from '@calwatch/model';
import { COLLECTOR_ERRORS } from './errors';
import { buildDeadLetterRecord, buildEventRecord, buildStateRecords, type RecordTopics } from './kafka-records';
import type { EventPublisher } from './publisher';
import type { StateWrite } from './state-entries';

export interface KafkaPublisherOptions {
  producer: Producer;
  topics: RecordTopics;
  /** Records per produce request. */
  maxBatchRecords: number;
  /** Bytes per produce request before compression; DEFAULT_MAX_SEND_BYTES unless a test passes less. */
  maxBatchBytes?: number;
  /** Observes the duration of each produce request, in seconds. */
  onSend?: (seconds: number, records: number) => void;
}

/** Maps an adapter failure to the collector's codes: retriable means "Kafka unavailable". */
export function toPublishError(error: unknown): Error {
  const retriable = (error as { retriable?: unknown } | null)?.retriable === true;
  const message = error instanceof Error ? error.message : String(error);
  return retriable
    ? COLLECTOR_ERRORS.create('COLLECTOR_KAFKA_UNAVAILABLE', `Kafka did not take the records: ${message}`, { cause: error })
    : COLLECTOR_ERRORS.create('COLLECTOR_PUBLISH_FAILED', `Kafka refused the records: ${message}`, { cause: error });
}

/** Below the broker's default max.message.bytes (1 MiB), with room for the request framing. */
export const DEFAULT_MAX_SEND_BYTES = 900_000;

export function createKafkaPublisher(options: KafkaPublisherOptions): EventPublisher {
  const { producer, topics } = options;
  const limits = { maxRecords: options.maxBatchRecords, maxBytes: options.maxBatchBytes ?? DEFAULT_MAX_SEND_BYTES };

  async function send(records: readonly OutgoingRecord[]): Promise<void> {
    for (const batch of planSends(records, limits)) {
      const began = process.hrtime.bigint();
      try {
        await producer.send(batch);
      } catch (error) {
        throw toPublishError(error);
      }
      options.onSend?.(Number(process.hrtime.bigint() - began) / 1e9, batch.length);
    }
  }

  return {
    publish(events: readonly CanonicalEvent[], deadLetters: readonly DeadLetter[]): Promise<void> {
      const records = events.map((event) => buildEventRecord(topics, event));
      for (const deadLetter of deadLetters) records.push(buildDeadLetterRecord(topics, deadLetter));
      return send(records);
    },
    async saveState(write: StateWrite): Promise<void> {
      const records = buildStateRecords(topics, write);
      // Each step only once the one before is acknowledged: the head commits the entries,
      // and the old whole-state record goes only when a head has replaced it.
      await send(records.entries);
      await send([records.head]);
      if (records.legacyTombstone !== undefined) await send([records.legacyTombstone]);
    },
  };
}
