export * from './types';
export { createKafkaClient, toKafkaError, type KafkaClientOptions } from './kafkajs-client';
export { estimateRecordBytes, splitIntoRequests } from './produce-requests';
