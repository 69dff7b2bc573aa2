export * from './types';
export { createKafkaClient } from './create-client';
export { toKafkaError, type KafkaClientOptions } from './kafkajs-client';
export { planSends, recordSizeBytes } from './record-size';
export * from './topic-setup';
export * from './compacted-restore';
export * from './group-offsets';
