export * from './types';
export { createKafkaClient } from './create-client';
export { toKafkaError, type KafkaClientOptions } from './kafkajs-client';
export {
  BROKER_DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_RECORD_BYTES,
  RECORD_BATCH_OVERHEAD_BYTES,
  planSends,
  recordLimitFor,
  recordSizeBytes,
} from './record-size';
