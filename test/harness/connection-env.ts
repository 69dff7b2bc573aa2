import type { ElasticsearchConnection, KafkaConnection } from '@calwatch/runtime';

/** Builds the env-variable form of a connection (what services' loadConfig reads). */
export function buildConnectionEnv(kafka: KafkaConnection, elasticsearch: ElasticsearchConnection): Record<string, string> {
  const env: Record<string, string> = {
    KAFKA_BROKERS: kafka.brokers.join(','),
    KAFKA_CLIENT_ID: kafka.clientId,
    KAFKA_SSL: String(kafka.ssl !== false),
    ELASTICSEARCH_URL: elasticsearch.url,
    ELASTICSEARCH_TLS_INSECURE: String(elasticsearch.tlsInsecure),
  };
  // The client library and codec under test reach processes the tests start (KAFKA_CLIENT=platformatic npx vitest ...).
  if (kafka.client !== undefined) env.KAFKA_CLIENT = kafka.client;
  if (kafka.compression !== undefined) env.KAFKA_COMPRESSION = kafka.compression;
  if (typeof kafka.ssl === 'object') {
    if (kafka.ssl.caFile !== undefined) env.KAFKA_SSL_CA_FILE = kafka.ssl.caFile;
    if (kafka.ssl.certFile !== undefined) env.KAFKA_SSL_CERT_FILE = kafka.ssl.certFile;
    if (kafka.ssl.keyFile !== undefined) env.KAFKA_SSL_KEY_FILE = kafka.ssl.keyFile;
    if (kafka.ssl.keyPassphrase !== undefined) env.KAFKA_SSL_KEY_PASSPHRASE = kafka.ssl.keyPassphrase;
  }
  if (kafka.sasl !== undefined) {
    env.KAFKA_SASL_MECHANISM = kafka.sasl.mechanism;
    env.KAFKA_SASL_USERNAME = kafka.sasl.username;
    env.KAFKA_SASL_PASSWORD = kafka.sasl.password;
  }
  const auth = elasticsearch.auth;
  if (auth !== undefined && 'apiKey' in auth) env.ELASTICSEARCH_API_KEY = auth.apiKey;
  if (auth !== undefined && 'username' in auth) {
    env.ELASTICSEARCH_USERNAME = auth.username;
    env.ELASTICSEARCH_PASSWORD = auth.password;
  }
  if (elasticsearch.caFile !== undefined) env.ELASTICSEARCH_CA_FILE = elasticsearch.caFile;
  if (elasticsearch.caFingerprint !== undefined) env.ELASTICSEARCH_CA_FINGERPRINT = elasticsearch.caFingerprint;
  return env;
}
