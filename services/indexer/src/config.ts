import { z } from 'zod';
import { boolVar, elasticsearchEnvShape, intVar, kafkaEnvShape, loadConfig, logLevelEnvShape, toElasticsearchConnection, toKafkaConfig, type Env } from '@calwatch/runtime';

const MIB = 1024 * 1024;

/** Index names are lower case and may not start with `_`, `-` or `+`. */
export const IndexPrefix = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" and "-", starting with a letter or digit');

/** How enriched events are split over time-based indices. */
export const IndexInterval = z.enum(['day', 'month']);
export type IndexInterval = z.infer<typeof IndexInterval>;

/** Index layout variables shared by the indexer and `calwatch es-setup`. */
export const indexLayoutEnvShape = {
  CALWATCH_INDEX_PREFIX: IndexPrefix.default('calwatch-').describe(
    'Prefix of every index, alias and template calwatch owns; a replay namespace uses another one.',
  ),
  CALWATCH_INDEX_INTERVAL: IndexInterval.default('month').describe(
    'Time span of one enriched-events index (day or month); the read alias spans them all.',
  ),
};

/** Every environment variable the indexer reads; the README's reference is checked against it. */
export const IndexerEnvSchema = z.object({
  ...kafkaEnvShape,
  ...elasticsearchEnvShape,
  ...indexLayoutEnvShape,
  ...logLevelEnvShape,
  INDEXER_GROUP_ID: z.string().min(1).default('calwatch-indexer').describe('Kafka consumer group of the indexer.'),
  INDEXER_PARTITIONS_CONCURRENCY: intVar(1)
    .default(2)
    .describe('Partitions whose batches are written at the same time (each batch is one bulk run).'),
  INDEXER_MAX_BYTES_PER_PARTITION: intVar(1024)
    .default(MIB)
    .describe('Largest fetch per partition, in bytes; with the concurrency it bounds the memory a stalled node can pin.'),
  INDEXER_FETCH_MAX_WAIT_MS: intVar(0)
    .default(100)
    .describe('How long the broker may hold a fetch waiting for data; lower means fresher documents.'),
  INDEXER_BULK_FLUSH_BYTES: intVar(1024)
    .default(5 * MIB)
    .describe('Bulk request size, in bytes of NDJSON, at which the bulk helper sends a request.'),
  INDEXER_BULK_CONCURRENCY: intVar(1).default(2).describe('Bulk requests one batch may have in flight.'),
  INDEXER_BULK_429_RETRIES: intVar(0)
    .default(1)
    .describe('Times the bulk helper re-sends documents refused with 429 before the indexer\'s own backoff takes over.'),
  INDEXER_BULK_429_WAIT_MS: intVar(0).default(500).describe('Wait of the bulk helper before re-sending documents refused with 429.'),
  INDEXER_RETRY_MIN_DELAY_MS: intVar(1).default(500).describe('First backoff delay after Elasticsearch failed a batch retriably.'),
  INDEXER_RETRY_MAX_DELAY_MS: intVar(1)
    .default(30_000)
    .describe('Longest backoff delay between retries of a batch Elasticsearch failed retriably (nothing is skipped).'),
  INDEXER_OUTAGE_BUDGET_MS: intVar(1_000)
    .default(5 * 60 * 1000)
    .describe(
      'How long one batch rides out Elasticsearch being unavailable (retried with backoff, nothing committed); past it the indexer stops with INDEXER_OUTAGE_EXCEEDED and exits non-zero.',
    ),
  INDEXER_REQUEST_TIMEOUT_MS: intVar(100).default(30_000).describe('Timeout of one Elasticsearch request.'),
  INDEXER_REQUIRE_SETUP: boolVar
    .default(true)
    .describe('Refuse to start when the index templates are missing or older than this release (run `calwatch es-setup`).'),
  INDEXER_SHUTDOWN_GRACE_MS: intVar(0).default(30_000).describe('Time allowed for the batch in flight to finish on shutdown.'),
  INDEXER_METRICS_PORT: intVar(0)
    .max(65_535)
    .default(9465)
    .describe(
      'Port of the HTTP endpoint with /metrics (Prometheus: documents by index, bulk retries, dead letters, per-partition lag and seconds since progress), /healthz and /readyz (503 unless consuming, and while a Kafka outage is ridden out); 0 picks a free port.',
    ),
});

/** The indexer's config as it reads it: camelCase, grouped by concern. */
export const IndexerConfigSchema = IndexerEnvSchema.transform((e) => ({
  logLevel: e.LOG_LEVEL,
  ...toKafkaConfig(e),
  elasticsearch: toElasticsearchConnection(e),
  indexPrefix: e.CALWATCH_INDEX_PREFIX,
  indexInterval: e.CALWATCH_INDEX_INTERVAL,
  groupId: e.INDEXER_GROUP_ID,
  partitionsConcurrency: e.INDEXER_PARTITIONS_CONCURRENCY,
  maxBytesPerPartition: e.INDEXER_MAX_BYTES_PER_PARTITION,
  fetchMaxWaitMs: e.INDEXER_FETCH_MAX_WAIT_MS,
  bulk: {
    flushBytes: e.INDEXER_BULK_FLUSH_BYTES,
    concurrency: e.INDEXER_BULK_CONCURRENCY,
    retries429: e.INDEXER_BULK_429_RETRIES,
    wait429Ms: e.INDEXER_BULK_429_WAIT_MS,
  },
  retry: { minDelayMs: e.INDEXER_RETRY_MIN_DELAY_MS, maxDelayMs: e.INDEXER_RETRY_MAX_DELAY_MS, budgetMs: e.INDEXER_OUTAGE_BUDGET_MS },
  requestTimeoutMs: e.INDEXER_REQUEST_TIMEOUT_MS,
  requireSetup: e.INDEXER_REQUIRE_SETUP,
  shutdownGraceMs: e.INDEXER_SHUTDOWN_GRACE_MS,
  metricsPort: e.INDEXER_METRICS_PORT,
}));

export type IndexerConfig = z.infer<typeof IndexerConfigSchema>;

/** Parses the indexer's variables once; the entry point passes the environment. */
export function loadIndexerConfig(env: Env): IndexerConfig {
  return loadConfig(IndexerConfigSchema, env);
}

/** What `calwatch es-setup` reads. */
export const EsSetupEnvSchema = z.object({
  ...elasticsearchEnvShape,
  ...indexLayoutEnvShape,
  CALWATCH_INDEX_SHARDS: intVar(1).default(1).describe('Primary shards of each calwatch index.'),
  CALWATCH_INDEX_REPLICAS: intVar(0).default(0).describe('Replicas of each calwatch index (0 on a single node).'),
  CALWATCH_ES_WRITER_USER: z
    .string()
    .min(1)
    .default('calwatch_writer')
    .describe('User `calwatch setup --elasticsearch-users` creates for the indexer (role calwatch_writer: bulk indexing and template setup on the calwatch indices only).'),
  CALWATCH_ES_WRITER_PASSWORD: z.string().min(12, 'at least 12 characters').optional().describe('Password of CALWATCH_ES_WRITER_USER (required with --elasticsearch-users; never logged).'),
  CALWATCH_ES_READER_USER: z
    .string()
    .min(1)
    .default('calwatch_reader')
    .describe('User `calwatch setup --elasticsearch-users` creates for Kibana readers (role calwatch_reader: read the calwatch indices, view the dashboards).'),
  CALWATCH_ES_READER_PASSWORD: z.string().min(12, 'at least 12 characters').optional().describe('Password of CALWATCH_ES_READER_USER; the reader user is created only when it is set.'),
});

export const EsSetupConfigSchema = EsSetupEnvSchema.transform((e) => ({
  elasticsearch: toElasticsearchConnection(e),
  indexPrefix: e.CALWATCH_INDEX_PREFIX,
  indexInterval: e.CALWATCH_INDEX_INTERVAL,
  shards: e.CALWATCH_INDEX_SHARDS,
  replicas: e.CALWATCH_INDEX_REPLICAS,
  writer: { username: e.CALWATCH_ES_WRITER_USER, password: e.CALWATCH_ES_WRITER_PASSWORD },
  reader: { username: e.CALWATCH_ES_READER_USER, password: e.CALWATCH_ES_READER_PASSWORD },
}));

export type EsSetupConfig = z.infer<typeof EsSetupConfigSchema>;

export function loadEsSetupConfig(env: Env): EsSetupConfig {
  return loadConfig(EsSetupConfigSchema, env);
}

/** What `calwatch kibana import` reads (the URL may also come from --url). */
export const KibanaEnvSchema = z.object({
  CALWATCH_INDEX_PREFIX: indexLayoutEnvShape.CALWATCH_INDEX_PREFIX,
  KIBANA_URL: z.url().optional().describe('Base URL of Kibana (with its base path, if any).'),
  KIBANA_USERNAME: z.string().optional().describe('Kibana user for basic authentication.'),
  KIBANA_PASSWORD: z.string().optional().describe('Password of KIBANA_USERNAME.'),
  KIBANA_API_KEY: z.string().optional().describe('Kibana API key (base64 id:key), used instead of a user.'),
  KIBANA_SPACE: z.string().min(1).optional().describe('Kibana space to import into; the default space when unset.'),
});

export const KibanaConfigSchema = KibanaEnvSchema.transform((e) => ({
  indexPrefix: e.CALWATCH_INDEX_PREFIX,
  url: e.KIBANA_URL,
  username: e.KIBANA_USERNAME,
  password: e.KIBANA_PASSWORD,
  apiKey: e.KIBANA_API_KEY,
  space: e.KIBANA_SPACE,
}));

export type KibanaConfig = z.infer<typeof KibanaConfigSchema>;

export function loadKibanaConfig(env: Env): KibanaConfig {
  return loadConfig(KibanaConfigSchema, env);
}
