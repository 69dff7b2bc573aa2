import type { CanonicalEvent, DeadLetter, OutgoingRecord, Producer } from '@calwatch/shared';
import { COLLECTOR_ERRORS } from './errors';
import { buildDeadLetterRecord, buildEventRecord, buildStateRecord, type RecordTopics } from './kafka-records';
import type { EventPublisher } from './publisher';
import type { CollectorServerState } from './server-state';

export interface KafkaPublisherOptions {
  producer: Producer;
  topics: RecordTopics;
  /** Records per produce request. */
  maxBatchRecords: number;
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

export function createKafkaPublisher(options: KafkaPublisherOptions): EventPublisher {
  const { producer, topics, maxBatchRecords } = options;

  async function send(records: OutgoingRecord[]): Promise<void> {
    for (let start = 0; start < records.length; start += maxBatchRecords) {
      const batch = records.slice(start, start + maxBatchRecords);
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
    saveState(state: CollectorServerState): Promise<void> {
      return send([buildStateRecord(topics, state)]);
    },
  };
}
