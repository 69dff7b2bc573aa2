import { z } from 'zod';
import { boolVar, csvList, intVar } from './config';
import { DEFAULT_MAX_RECORD_BYTES } from './kafka/record-size';
import { DEFAULT_TOPIC_PREFIX } from './topics';

/** Kafka connection variables, shared by every service's config schema. */
export const kafkaEnvShape = {
  KAFKA_BROKERS: csvList
    .pipe(z.array(z.string().min(1)).min(1, 'at least one broker host:port'))
    .default(['127.0.0.1:9092'])
    .describe('Comma-separated Kafka bootstrap brokers (host:port).'),
  KAFKA_CLIENT_ID: z.string().min(1).default('calwatch').describe('Client id sent to the brokers (quotas, broker logs).'),
  KAFKA_SSL: boolVar.default(false).describe('Connect to the brokers over TLS.'),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional().describe('SASL mechanism; unset means no SASL.'),
  KAFKA_SASL_USERNAME: z.string().optional().describe('SASL user name.'),
  KAFKA_SASL_PASSWORD: z.string().optional().describe('SASL password (never logged).'),
  KAFKA_MAX_RECORD_BYTES: intVar(1024)
    .default(DEFAULT_MAX_RECORD_BYTES)
    .describe(
      'Largest record (key + value + headers, uncompressed) the client sends; a larger one is refused before sending (SHARED_KAFKA_RECORD_TOO_LARGE). The default leaves room for batch framing under the broker default max.message.bytes (1048588); topics created with a larger max.message.bytes (snapshot state) get their own.',
    ),
  KAFKA_OUTAGE_BUDGET_MS: intVar(1_000)
    .default(5 * 60 * 1000)
    .describe(
      'How long a broker outage is ridden out (sends retried with backoff, a failing consumer restarted, readiness false) before the service gives up with SHARED_KAFKA_OUTAGE_EXCEEDED and exits non-zero.',
    ),
  CALWATCH_TOPIC_PREFIX: z.string().default(DEFAULT_TOPIC_PREFIX).describe('Prefix of every calwatch topic; a replay namespace uses its own.'),
  CALWATCH_TOPIC_PARTITIONS: intVar(1).default(6).describe('Partitions of the topics `calwatch setup` creates (the unit of processor parallelism).'),
  CALWATCH_TOPIC_RETENTION_MS: intVar(1).default(14 * 24 * 3600 * 1000).describe('Retention of the non-compacted topics created by setup, in ms (dead letters keep twice as long).'),
};

/** Elasticsearch connection variables. */
export const elasticsearchEnvShape = {
  ELASTICSEARCH_URL: z.url().default('http://127.0.0.1:9200').describe('Elasticsearch URL (https:// for TLS).'),
  ELASTICSEARCH_USERNAME: z.string().optional().describe('Basic-auth user.'),
  ELASTICSEARCH_PASSWORD: z.string().optional().describe('Basic-auth password (never logged).'),
  ELASTICSEARCH_API_KEY: z.string().optional().describe('API key (base64 id:key); used instead of basic auth when set.'),
  ELASTICSEARCH_CA_FILE: z.string().optional().describe('PEM file of the CA that signed the node certificate.'),
  ELASTICSEARCH_TLS_INSECURE: boolVar.default(false).describe('Skip TLS certificate verification (tests only).'),
  CALWATCH_INDEX_PREFIX: z.string().default('calwatch-').describe('Prefix of every calwatch index, template and alias.'),
};

export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  ssl: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** Largest record sent to a topic without its own limit (KAFKA_MAX_RECORD_BYTES). */
  maxRecordBytes?: number;
  /** How long an outage is ridden out before failing (KAFKA_OUTAGE_BUDGET_MS). */
  outageBudgetMs?: number;
}

export function toKafkaConnection(env: {
  KAFKA_BROKERS: string[];
  KAFKA_CLIENT_ID: string;
  KAFKA_SSL: boolean;
  KAFKA_SASL_MECHANISM?: 'plain' | 'scram-sha-256' | 'scram-sha-512' | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
  KAFKA_MAX_RECORD_BYTES?: number | undefined;
  KAFKA_OUTAGE_BUDGET_MS?: number | undefined;
}): KafkaConnection {
  const connection: KafkaConnection = { brokers: env.KAFKA_BROKERS, clientId: env.KAFKA_CLIENT_ID, ssl: env.KAFKA_SSL };
  if (env.KAFKA_MAX_RECORD_BYTES !== undefined) connection.maxRecordBytes = env.KAFKA_MAX_RECORD_BYTES;
  if (env.KAFKA_OUTAGE_BUDGET_MS !== undefined) connection.outageBudgetMs = env.KAFKA_OUTAGE_BUDGET_MS;
  if (env.KAFKA_SASL_MECHANISM !== undefined) {
    connection.sasl = {
      mechanism: env.KAFKA_SASL_MECHANISM,
      username: env.KAFKA_SASL_USERNAME ?? '',
      password: env.KAFKA_SASL_PASSWORD ?? '',
    };
  }
  return connection;
}

export interface ElasticsearchConnection {
  url: string;
  auth?: { username: string; password: string } | { apiKey: string };
  caFile?: string;
  tlsInsecure: boolean;
}

export function toElasticsearchConnection(env: {
  ELASTICSEARCH_URL: string;
  ELASTICSEARCH_USERNAME?: string | undefined;
  ELASTICSEARCH_PASSWORD?: string | undefined;
  ELASTICSEARCH_API_KEY?: string | undefined;
  ELASTICSEARCH_CA_FILE?: string | undefined;
  ELASTICSEARCH_TLS_INSECURE: boolean;
}): ElasticsearchConnection {
  const connection: ElasticsearchConnection = { url: env.ELASTICSEARCH_URL, tlsInsecure: env.ELASTICSEARCH_TLS_INSECURE };
  if (env.ELASTICSEARCH_API_KEY !== undefined) connection.auth = { apiKey: env.ELASTICSEARCH_API_KEY };
  else if (env.ELASTICSEARCH_USERNAME !== undefined) {
    connection.auth = { username: env.ELASTICSEARCH_USERNAME, password: env.ELASTICSEARCH_PASSWORD ?? '' };
  }
  if (env.ELASTICSEARCH_CA_FILE !== undefined) connection.caFile = env.ELASTICSEARCH_CA_FILE;
  return connection;
}
