import { z } from 'zod';
import { boolVar, csvList, intVar } from './config';
import { SHARED_ERRORS } from '@calwatch/model';
import { DEFAULT_MAX_RECORD_BYTES } from '@calwatch/model';
import { DEFAULT_TOPIC_PREFIX } from '@calwatch/model';

/** The client libraries behind the Kafka port (KAFKA_CLIENT). */
export const KAFKA_CLIENT_LIBRARIES = ['kafkajs', 'platformatic'] as const;
export type KafkaClientLibrary = (typeof KAFKA_CLIENT_LIBRARIES)[number];

/** Record batch compressions (KAFKA_COMPRESSION); kafkajs has only none and gzip built in. */
export const KAFKA_COMPRESSIONS = ['none', 'gzip', 'lz4', 'zstd', 'snappy'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];

/** Kafka connection variables, shared by every service's config schema. */
export const kafkaEnvShape = {
  KAFKA_BROKERS: csvList
    .pipe(z.array(z.string().min(1)).min(1, 'at least one broker host:port'))
    .default(['127.0.0.1:9092'])
    .describe('Comma-separated Kafka bootstrap brokers (host:port).'),
  KAFKA_CLIENT_ID: z.string().min(1).default('calwatch').describe('Client id sent to the brokers (quotas, broker logs).'),
  KAFKA_CLIENT: z
    .enum(KAFKA_CLIENT_LIBRARIES)
    .default('kafkajs')
    .describe(
      'Kafka client library: kafkajs for everything, or platformatic for the producer and the state-restore reader on @platformatic/kafka (group consumer and admin stay on kafkajs); see docs/kafka-client.md.',
    ),
  KAFKA_COMPRESSION: z
    .enum(KAFKA_COMPRESSIONS)
    .default('gzip')
    .describe('Compression of produced record batches: none or gzip. lz4, zstd and snappy are refused: the group consumers (kafkajs) cannot read them.'),
  KAFKA_SSL: boolVar.default(false).describe('Connect to the brokers over TLS.'),
  KAFKA_SSL_CA_FILE: z.string().min(1).optional().describe('PEM file of the CA that signed the broker certificates (needs KAFKA_SSL=true); the system CAs when unset.'),
  KAFKA_SSL_CERT_FILE: z.string().min(1).optional().describe('PEM client certificate for mutual TLS (with KAFKA_SSL_KEY_FILE; needs KAFKA_SSL=true).'),
  KAFKA_SSL_KEY_FILE: z.string().min(1).optional().describe('PEM private key of KAFKA_SSL_CERT_FILE.'),
  KAFKA_SSL_KEY_PASSPHRASE: z.string().min(1).optional().describe('Passphrase of an encrypted KAFKA_SSL_KEY_FILE (never logged).'),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional().describe('SASL mechanism; unset means no SASL. plain needs KAFKA_SSL=true (or KAFKA_SASL_ALLOW_PLAINTEXT=true).'),
  KAFKA_SASL_USERNAME: z.string().optional().describe('SASL user name (required with KAFKA_SASL_MECHANISM).'),
  KAFKA_SASL_PASSWORD: z.string().optional().describe('SASL password (required with KAFKA_SASL_MECHANISM; never logged).'),
  KAFKA_SASL_ALLOW_PLAINTEXT: boolVar
    .default(false)
    .describe('Allow SASL plain without TLS, which sends the password in clear text (a private test network only).'),
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
  ELASTICSEARCH_USERNAME: z.string().optional().describe('Basic-auth user (with ELASTICSEARCH_PASSWORD; `calwatch setup --elasticsearch-users` creates least-privilege ones).'),
  ELASTICSEARCH_PASSWORD: z.string().optional().describe('Basic-auth password (required with ELASTICSEARCH_USERNAME; never logged).'),
  ELASTICSEARCH_API_KEY: z.string().optional().describe('API key (base64 id:key); exclusive with ELASTICSEARCH_USERNAME.'),
  ELASTICSEARCH_CA_FILE: z.string().optional().describe('PEM file of the CA that signed the node certificate.'),
  ELASTICSEARCH_CA_FINGERPRINT: z
    .string()
    .regex(/^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/, 'a SHA-256 fingerprint: 64 hex digits, optionally colon-separated')
    .optional()
    .describe('SHA-256 fingerprint of the CA certificate (as `elasticsearch` prints at first start); trusted instead of, or besides, ELASTICSEARCH_CA_FILE.'),
  ELASTICSEARCH_TLS_INSECURE: boolVar.default(false).describe('Skip TLS certificate verification (tests only).'),
  CALWATCH_INDEX_PREFIX: z.string().default('calwatch-').describe('Prefix of every calwatch index, template and alias.'),
};

/** TLS towards the brokers: files, read when the client is built. */
export interface KafkaTlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  keyPassphrase?: string;
}

export type KafkaSaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  /** false, true (system CAs), or the files of a private CA and a client certificate. */
  ssl: boolean | KafkaTlsFiles;
  sasl?: { mechanism: KafkaSaslMechanism; username: string; password: string };
  /** Largest record sent to a topic without its own limit (KAFKA_MAX_RECORD_BYTES). */
  maxRecordBytes?: number;
  /** How long an outage is ridden out before failing (KAFKA_OUTAGE_BUDGET_MS). */
  outageBudgetMs?: number;
  /** Library of the producer and the partition reader (KAFKA_CLIENT); kafkajs when absent. */
  client?: KafkaClientLibrary;
  /** Compression of produced batches (KAFKA_COMPRESSION); gzip when absent. */
  compression?: KafkaCompression;
}

/** The Kafka variables as parsed, before they are checked together. */
export interface KafkaEnv {
  KAFKA_BROKERS: string[];
  KAFKA_CLIENT_ID: string;
  KAFKA_SSL: boolean;
  KAFKA_SSL_CA_FILE?: string | undefined;
  KAFKA_SSL_CERT_FILE?: string | undefined;
  KAFKA_SSL_KEY_FILE?: string | undefined;
  KAFKA_SSL_KEY_PASSPHRASE?: string | undefined;
  KAFKA_SASL_MECHANISM?: KafkaSaslMechanism | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
  KAFKA_SASL_ALLOW_PLAINTEXT?: boolean | undefined;
  KAFKA_MAX_RECORD_BYTES?: number | undefined;
  KAFKA_OUTAGE_BUDGET_MS?: number | undefined;
  KAFKA_CLIENT?: KafkaClientLibrary | undefined;
  KAFKA_COMPRESSION?: KafkaCompression | undefined;
}

const KAFKAJS_COMPRESSIONS: ReadonlySet<KafkaCompression> = new Set(['none', 'gzip']);

/**
 * What is wrong with the Kafka variables taken together: credentials that would silently
 * be empty, a password that would cross the network in clear text, TLS files given while
 * TLS is off. Every problem at once, each naming its variable.
 */
export function findKafkaEnvIssues(env: KafkaEnv): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  const tlsFiles = ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE', 'KAFKA_SSL_KEY_PASSPHRASE'] as const;
  if (!env.KAFKA_SSL) {
    for (const name of tlsFiles) {
      if (env[name] !== undefined) issues.push({ path: name, message: 'set KAFKA_SSL=true: TLS settings without TLS would be ignored' });
    }
  }
  if ((env.KAFKA_SSL_CERT_FILE === undefined) !== (env.KAFKA_SSL_KEY_FILE === undefined)) {
    const missing = env.KAFKA_SSL_CERT_FILE === undefined ? 'KAFKA_SSL_CERT_FILE' : 'KAFKA_SSL_KEY_FILE';
    issues.push({ path: missing, message: 'a client certificate needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE' });
  }
  if (env.KAFKA_SSL_KEY_PASSPHRASE !== undefined && env.KAFKA_SSL_KEY_FILE === undefined) {
    issues.push({ path: 'KAFKA_SSL_KEY_PASSPHRASE', message: 'a passphrase without KAFKA_SSL_KEY_FILE' });
  }
  // Whatever produces, the group consumers (processor, indexer, notifier) are kafkajs, which
  // cannot read lz4, zstd or snappy batches: every consumer would stop on the first one.
  if (env.KAFKA_COMPRESSION !== undefined && !KAFKAJS_COMPRESSIONS.has(env.KAFKA_COMPRESSION)) {
    issues.push({
      path: 'KAFKA_COMPRESSION',
      message: `${env.KAFKA_COMPRESSION}: the group consumers (kafkajs, whatever KAFKA_CLIENT is) could not read such batches; use none or gzip`,
    });
  }
  if (env.KAFKA_SASL_MECHANISM === undefined) {
    for (const name of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const) {
      if (env[name] !== undefined) issues.push({ path: name, message: 'set KAFKA_SASL_MECHANISM: credentials without a mechanism would be ignored' });
    }
    return issues;
  }
  for (const name of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const) {
    if (env[name] === undefined || env[name] === '') issues.push({ path: name, message: `required with KAFKA_SASL_MECHANISM=${env.KAFKA_SASL_MECHANISM}` });
  }
  if (env.KAFKA_SASL_MECHANISM === 'plain' && !env.KAFKA_SSL && env.KAFKA_SASL_ALLOW_PLAINTEXT !== true) {
    issues.push({
      path: 'KAFKA_SASL_MECHANISM',
      message: 'SASL plain sends the password in clear text: set KAFKA_SSL=true, use scram-sha-256/512, or set KAFKA_SASL_ALLOW_PLAINTEXT=true on a private network',
    });
  }
  return issues;
}

/**
 * The connection the Kafka adapter builds its client from. Throws SHARED_CONFIG_INVALID
 * when the variables do not fit together (see findKafkaEnvIssues), so no service starts
 * with an empty SASL password or sends one in clear text.
 */
export function toKafkaConnection(env: KafkaEnv): KafkaConnection {
  const issues = findKafkaEnvIssues(env);
  if (issues.length > 0) {
    throw SHARED_ERRORS.create('SHARED_CONFIG_INVALID', `invalid configuration:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`, {
      context: { issues },
    });
  }
  const connection: KafkaConnection = { brokers: env.KAFKA_BROKERS, clientId: env.KAFKA_CLIENT_ID, ssl: env.KAFKA_SSL };
  const files: KafkaTlsFiles = {};
  if (env.KAFKA_SSL_CA_FILE !== undefined) files.caFile = env.KAFKA_SSL_CA_FILE;
  if (env.KAFKA_SSL_CERT_FILE !== undefined) files.certFile = env.KAFKA_SSL_CERT_FILE;
  if (env.KAFKA_SSL_KEY_FILE !== undefined) files.keyFile = env.KAFKA_SSL_KEY_FILE;
  if (env.KAFKA_SSL_KEY_PASSPHRASE !== undefined) files.keyPassphrase = env.KAFKA_SSL_KEY_PASSPHRASE;
  if (env.KAFKA_SSL && Object.keys(files).length > 0) connection.ssl = files;
  if (env.KAFKA_MAX_RECORD_BYTES !== undefined) connection.maxRecordBytes = env.KAFKA_MAX_RECORD_BYTES;
  if (env.KAFKA_OUTAGE_BUDGET_MS !== undefined) connection.outageBudgetMs = env.KAFKA_OUTAGE_BUDGET_MS;
  if (env.KAFKA_CLIENT !== undefined) connection.client = env.KAFKA_CLIENT;
  if (env.KAFKA_COMPRESSION !== undefined) connection.compression = env.KAFKA_COMPRESSION;
  if (env.KAFKA_SASL_MECHANISM !== undefined && env.KAFKA_SASL_USERNAME !== undefined && env.KAFKA_SASL_PASSWORD !== undefined) {
    connection.sasl = { mechanism: env.KAFKA_SASL_MECHANISM, username: env.KAFKA_SASL_USERNAME, password: env.KAFKA_SASL_PASSWORD };
  }
  return connection;
}

export interface ElasticsearchConnection {
  url: string;
  auth?: { username: string; password: string } | { apiKey: string };
  caFile?: string;
  /** SHA-256 of the CA certificate, colon-separated upper-case hex as the client compares it. */
  caFingerprint?: string;
  tlsInsecure: boolean;
}

export interface ElasticsearchEnv {
  ELASTICSEARCH_URL: string;
  ELASTICSEARCH_USERNAME?: string | undefined;
  ELASTICSEARCH_PASSWORD?: string | undefined;
  ELASTICSEARCH_API_KEY?: string | undefined;
  ELASTICSEARCH_CA_FILE?: string | undefined;
  ELASTICSEARCH_CA_FINGERPRINT?: string | undefined;
  ELASTICSEARCH_TLS_INSECURE: boolean;
}

/** What is wrong with the Elasticsearch variables taken together (credentials that would silently be empty or ignored). */
export function findElasticsearchEnvIssues(env: ElasticsearchEnv): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  const hasUser = env.ELASTICSEARCH_USERNAME !== undefined && env.ELASTICSEARCH_USERNAME !== '';
  const hasPassword = env.ELASTICSEARCH_PASSWORD !== undefined && env.ELASTICSEARCH_PASSWORD !== '';
  if (hasUser && !hasPassword) issues.push({ path: 'ELASTICSEARCH_PASSWORD', message: 'required with ELASTICSEARCH_USERNAME' });
  if (hasPassword && !hasUser) issues.push({ path: 'ELASTICSEARCH_USERNAME', message: 'required with ELASTICSEARCH_PASSWORD' });
  if (env.ELASTICSEARCH_API_KEY !== undefined && hasUser) {
    issues.push({ path: 'ELASTICSEARCH_API_KEY', message: 'set either ELASTICSEARCH_API_KEY or ELASTICSEARCH_USERNAME/_PASSWORD, not both' });
  }
  if (env.ELASTICSEARCH_API_KEY === '') issues.push({ path: 'ELASTICSEARCH_API_KEY', message: 'empty' });
  return issues;
}

/** `ab:CD..` or `abcd..` to the colon-separated upper-case form the client compares. */
export function normaliseFingerprint(fingerprint: string): string {
  const hex = fingerprint.replace(/:/g, '').toUpperCase();
  return hex.match(/.{2}/g)?.join(':') ?? hex;
}

/** Throws SHARED_CONFIG_INVALID when the variables do not fit together (see findElasticsearchEnvIssues). */
export function toElasticsearchConnection(env: ElasticsearchEnv): ElasticsearchConnection {
  const issues = findElasticsearchEnvIssues(env);
  if (issues.length > 0) {
    throw SHARED_ERRORS.create('SHARED_CONFIG_INVALID', `invalid configuration:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`, {
      context: { issues },
    });
  }
  const connection: ElasticsearchConnection = { url: env.ELASTICSEARCH_URL, tlsInsecure: env.ELASTICSEARCH_TLS_INSECURE };
  if (env.ELASTICSEARCH_API_KEY !== undefined) connection.auth = { apiKey: env.ELASTICSEARCH_API_KEY };
  else if (env.ELASTICSEARCH_USERNAME !== undefined && env.ELASTICSEARCH_PASSWORD !== undefined) {
    connection.auth = { username: env.ELASTICSEARCH_USERNAME, password: env.ELASTICSEARCH_PASSWORD };
  }
  if (env.ELASTICSEARCH_CA_FILE !== undefined) connection.caFile = env.ELASTICSEARCH_CA_FILE;
  if (env.ELASTICSEARCH_CA_FINGERPRINT !== undefined) connection.caFingerprint = normaliseFingerprint(env.ELASTICSEARCH_CA_FINGERPRINT);
  return connection;
}

/** A Kafka connection as a service config holds it: every limit the variables default. */
export type KafkaConfig = KafkaConnection & Required<Pick<KafkaConnection, 'maxRecordBytes' | 'outageBudgetMs' | 'client' | 'compression'>>;

/** How `calwatch setup` lays out the topics it creates (dead letters keep twice as long). */
export interface TopicLayoutConfig {
  partitions: number;
  retentionMs: number;
  deadLetterRetentionMs: number;
}

type ParsedKafkaEnv = KafkaEnv & Required<Pick<KafkaEnv, 'KAFKA_MAX_RECORD_BYTES' | 'KAFKA_OUTAGE_BUDGET_MS' | 'KAFKA_CLIENT' | 'KAFKA_COMPRESSION'>> & {
  CALWATCH_TOPIC_PREFIX: string;
  CALWATCH_TOPIC_PARTITIONS: number;
  CALWATCH_TOPIC_RETENTION_MS: number;
};

/**
 * The camelCase Kafka part of a config, from variables parsed with kafkaEnvShape. Throws
 * SHARED_CONFIG_INVALID when they do not fit together (see toKafkaConnection).
 */
export function toKafkaConfig(env: ParsedKafkaEnv): { kafka: KafkaConfig; topicPrefix: string; topicLayout: TopicLayoutConfig } {
  return {
    kafka: {
      ...toKafkaConnection(env),
      maxRecordBytes: env.KAFKA_MAX_RECORD_BYTES,
      outageBudgetMs: env.KAFKA_OUTAGE_BUDGET_MS,
      client: env.KAFKA_CLIENT,
      compression: env.KAFKA_COMPRESSION,
    },
    topicPrefix: env.CALWATCH_TOPIC_PREFIX,
    topicLayout: {
      partitions: env.CALWATCH_TOPIC_PARTITIONS,
      retentionMs: env.CALWATCH_TOPIC_RETENTION_MS,
      deadLetterRetentionMs: env.CALWATCH_TOPIC_RETENTION_MS * 2,
    },
  };
}

/** The Kafka variables alone, as `calwatch setup` and the test harness read them. */
export const KafkaConfigSchema = z.object(kafkaEnvShape).transform(toKafkaConfig);

/** The Elasticsearch variables alone, as the test harness reads them. */
export const ElasticsearchConfigSchema = z.object(elasticsearchEnvShape).transform((e) => ({
  elasticsearch: toElasticsearchConnection(e),
  indexPrefix: e.CALWATCH_INDEX_PREFIX,
}));
