/**
 * The local stack: a real Kafka broker (KRaft) and Elasticsearch node started from Maven
 * Central artifacts, for development, `calwatch demo` and the integration tests.
 */
export { stackUp, stackDown, stackStatus, readStackInfo, releaseStackLease } from './stack';
export type { Component, ComponentStatus, StackDownResult, StackOptions, StackStatus, StackUpResult } from './stack';
export type { StackInfo } from './stack-info';
export { stackInfoSchema, buildStackEnv, buildStackConnectionEnv } from './stack-info';
export { loadStackSettings, DEFAULT_KAFKA_VERSION, DEFAULT_ELASTICSEARCH_VERSION } from './settings';
export type { StackSettings } from './settings';
export { STACK_ERRORS } from './errors';
export { buildKafkaToolsPom, ensureMavenLibs } from './maven';
export {
  buildClusterId,
  buildKafkaJvmArgs,
  buildKafkaLog4jConfig,
  buildKafkaScramArgs,
  buildKafkaServerProperties,
  KAFKA_TLS_SASL_MECHANISM,
  type KafkaTlsListener,
} from './kafka-config';
export { buildElasticsearchYml, type ElasticsearchHttpTls } from './elasticsearch-config';
export { probeKafka, probeElasticsearch, type ProbeResult, type ElasticsearchProbeAuth, type KafkaProbeTarget } from './readiness';
export { createCertificateAuthority, readCertificateFingerprint, type CertificateAuthority, type IssuedCertificate } from './certificates';
export { httpRequest, type HttpResponse } from './http-request';
export type { StackMode } from './layout';
export * from './format';
