import { createKafkajsClient, type KafkaClientOptions } from './kafkajs-client';
import { buildPlatformaticOptions } from './platformatic-options';
import { createPlatformaticProducer } from './platformatic-producer';
import { createPlatformaticPartitionReader } from './platformatic-reader';
import { DEFAULT_MAX_RECORD_BYTES } from './record-size';
import type { KafkaClient } from './types';

const DEFAULT_OUTAGE_BUDGET_MS = 5 * 60 * 1000;

/**
 * calwatch's Kafka client. KAFKA_CLIENT (connection.client) picks the library of the
 * producer and the partition reader: kafkajs (the default) or @platformatic/kafka. The group
 * consumer and the admin are kafkajs's either way (docs/kafka-client.md, step 1).
 */
export function createKafkaClient(options: KafkaClientOptions): KafkaClient {
  const { connection } = options;
  if ((connection.client ?? 'kafkajs') === 'kafkajs') return createKafkajsClient(options);
  // The kafkajs part never compresses with a codec it lacks: its producer is not used here.
  const kafkajs = createKafkajsClient({ ...options, connection: { ...connection, compression: 'gzip' } });
  const clientOptions = buildPlatformaticOptions(connection, {
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    connectionTimeoutMs: options.connectionTimeoutMs ?? 3_000,
    retries: options.retries ?? 8,
  });
  const outageBudgetMs = connection.outageBudgetMs ?? DEFAULT_OUTAGE_BUDGET_MS;
  const backoff = options.outageBackoff ?? { minDelayMs: 500, maxDelayMs: 15_000 };
  options.logger.info({ kafkaClient: 'platformatic', compression: connection.compression ?? 'gzip' }, 'producer and partition reader on @platformatic/kafka; group consumer and admin on kafkajs');
  let producers = 0;
  return {
    createConsumer: kafkajs.createConsumer,
    createAdmin: kafkajs.createAdmin,
    createProducer: (producerOptions) =>
      createPlatformaticProducer(
        {
          clientOptions,
          logger: options.logger,
          readiness: options.readiness,
          compression: connection.compression ?? 'gzip',
          maxRecordBytes: connection.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
          outageBudgetMs,
          backoff,
          reason: `kafka producer ${++producers}`,
        },
        producerOptions,
      ),
    createPartitionReader: () => createPlatformaticPartitionReader({ clientOptions, outageBudgetMs, backoff }),
  };
}
