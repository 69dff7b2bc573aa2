import { CLIENT_DEFAULTS, createKafkajsClient, type KafkaClientOptions } from './kafkajs-client';
import { DEFAULT_OUTAGE_BACKOFF, DEFAULT_OUTAGE_BUDGET_MS } from './outage';
import { buildPlatformaticOptions } from './platformatic-options';
import { createPlatformaticProducer } from './platformatic-producer';
import { createPlatformaticPartitionReader } from './platformatic-reader';
import { DEFAULT_MAX_RECORD_BYTES } from '@calwatch/model';
import { DEFAULT_KAFKA_CLIENT, DEFAULT_KAFKA_COMPRESSION } from '@calwatch/runtime';
import type { KafkaClient } from './types';

/**
 * calwatch's Kafka client. KAFKA_CLIENT (connection.client) picks the library of the
 * producer and the partition reader: @platformatic/kafka (the default) or kafkajs. The group
 * consumer and the admin are kafkajs's either way (docs/kafka-client.md, step 1).
 */
export function createKafkaClient(options: KafkaClientOptions): KafkaClient {
  const { connection } = options;
  if ((connection.client ?? DEFAULT_KAFKA_CLIENT) === 'kafkajs') return createKafkajsClient(options);
  // The kafkajs part never compresses with a codec it lacks: its producer is not used here.
  const kafkajs = createKafkajsClient({ ...options, connection: { ...connection, compression: 'gzip' } });
  const clientOptions = buildPlatformaticOptions(connection, {
    requestTimeoutMs: options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs,
    connectionTimeoutMs: options.connectionTimeoutMs ?? CLIENT_DEFAULTS.connectionTimeoutMs,
    retries: options.retries ?? CLIENT_DEFAULTS.retries,
  });
  const outageBudgetMs = connection.outageBudgetMs ?? DEFAULT_OUTAGE_BUDGET_MS;
  const backoff = options.outageBackoff ?? DEFAULT_OUTAGE_BACKOFF;
  options.logger.info({ kafkaClient: 'platformatic', compression: connection.compression ?? DEFAULT_KAFKA_COMPRESSION }, 'producer and partition reader on @platformatic/kafka; group consumer and admin on kafkajs');
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
          compression: connection.compression ?? DEFAULT_KAFKA_COMPRESSION,
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
