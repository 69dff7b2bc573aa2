import { z } from 'zod';
import { csvList, intVar, kafkaEnvShape, loadConfig, logLevelEnvShape, toKafkaConfig, type Env } from '@calwatch/runtime';
import { splitTokenEntry } from './token-auth';

const MIB = 1024 * 1024;

/** Shorter tokens are refused: a bearer token is the only thing between the network and Kafka. */
export const MIN_TOKEN_LENGTH = 16;

/** Every environment variable the collector reads; the README's reference is checked against it. */
export const CollectorEnvSchema = z
  .object({
    ...kafkaEnvShape,
    ...logLevelEnvShape,
    COLLECTOR_HOST: z.string().min(1).default('0.0.0.0').describe('Address the HTTP API listens on.'),
    COLLECTOR_PORT: intVar(0).max(65535).default(8080).describe('Port of the HTTP API (0 picks a free port).'),
    COLLECTOR_TLS_CERT_FILE: z
      .string()
      .min(1)
      .optional()
      .describe('PEM certificate (chain) of the HTTPS API; with COLLECTOR_TLS_KEY_FILE the API speaks HTTPS only. Re-read when it changes, so a renewed certificate needs no restart.'),
    COLLECTOR_TLS_KEY_FILE: z.string().min(1).optional().describe('PEM private key of COLLECTOR_TLS_CERT_FILE.'),
    COLLECTOR_TLS_CA_FILE: z
      .string()
      .min(1)
      .optional()
      .describe('PEM CA bundle; when set, clients must present a certificate it signed (mutual TLS) besides their bearer token.'),
    COLLECTOR_TLS_RELOAD_POLL_MS: intVar(100).default(60_000).describe('How often the TLS files are checked for changes, besides file-system notifications.'),
    COLLECTOR_TOKENS: csvList
      .pipe(
        z.array(
          z.string().refine((entry) => splitTokenEntry(entry).token.length >= MIN_TOKEN_LENGTH, `tokens must be at least ${MIN_TOKEN_LENGTH} characters`),
        ),
      )
      .default([])
      .describe('Comma-separated bearer tokens accepted by the API; `token=LS01|LS02` limits a token to those license servers.'),
    COLLECTOR_TOKENS_FILE: z
      .string()
      .min(1)
      .optional()
      .describe('File with one bearer token per line (# comments); re-read when it changes and on SIGHUP, so tokens rotate without a restart.'),
    COLLECTOR_TOKENS_FILE_POLL_MS: intVar(100).default(30_000).describe('How often the tokens file is checked for changes, besides file-system notifications.'),
    COLLECTOR_MAX_BODY_BYTES: intVar(1).default(64 * MIB).describe('Largest request body as sent (compressed), in bytes; larger gets 413.'),
    COLLECTOR_MAX_DECOMPRESSED_BYTES: intVar(1)
      .default(512 * MIB)
      .describe('Largest body after gzip decompression, in bytes; reading stops there with 413 (gzip bombs).'),
    COLLECTOR_MAX_IN_FLIGHT_REQUESTS: intVar(1).default(16).describe('Ingest requests processed at once; beyond it requests get 429 with Retry-After.'),
    COLLECTOR_MAX_IN_FLIGHT_BYTES: intVar(1)
      .default(256 * MIB)
      .describe('Sum of declared body sizes (Content-Length) of requests processed at once; beyond it requests get 429.'),
    COLLECTOR_RETRY_AFTER_SECONDS: intVar(1).default(5).describe('Retry-After sent with 429 and 503.'),
    COLLECTOR_KAFKA_RETRY_INTERVAL_MS: intVar(100)
      .default(5_000)
      .describe('After Kafka failed to take records, requests get 503 for this long before one is let through to try again.'),
    COLLECTOR_PUBLISH_BATCH_RECORDS: intVar(1).default(1_000).describe('Records per produce request while streaming a body to Kafka.'),
    COLLECTOR_MAX_REPORTED_REJECTIONS: intVar(0).default(20).describe('Rejection reasons listed in a response or drop-folder report (all go to the dead-letter topic).'),
    COLLECTOR_AUTH_MAX_FAILURES: intVar(1)
      .default(10)
      .describe('Failed authentications one client address may make within COLLECTOR_AUTH_FAILURE_WINDOW_MS; beyond it the address gets 429 until the window ends.'),
    COLLECTOR_AUTH_FAILURE_WINDOW_MS: intVar(1_000).default(60_000).describe('Window over which failed authentications per client address are counted.'),
    COLLECTOR_REQUEST_TIMEOUT_MS: intVar(1_000)
      .default(300_000)
      .describe('Longest time a request may take from its first byte to its response (slow uploads are cut off with 408).'),
    COLLECTOR_HEADERS_TIMEOUT_MS: intVar(1_000).default(10_000).describe('Longest time for a client to send the request headers.'),
    COLLECTOR_IDLE_TIMEOUT_MS: intVar(1_000).default(30_000).describe('A connection that sends nothing for this long (headers or body) is closed.'),
    COLLECTOR_KEEP_ALIVE_TIMEOUT_MS: intVar(100).default(5_000).describe('How long an idle keep-alive connection is kept open between requests.'),
    COLLECTOR_MAX_EVENT_TIME_SKEW_MS: intVar(0)
      .default(86_400_000)
      .describe('How far past the collector clock an event time may be; later events are dead-lettered as COLLECTOR_EVENT_TIME_AHEAD.'),
    COLLECTOR_MAX_CLOCK_SKEW_MS: intVar(0)
      .default(5 * 60_000)
      .describe('How far in the future X-Calwatch-Snapshot-Time may be; a later time would make every real snapshot look stale.'),
    COLLECTOR_DROP_DIR: z.string().min(1).optional().describe('Folder watched for export files to ingest (optional); see "Drop folder".'),
    COLLECTOR_DROP_STABLE_MS: intVar(0).default(2_000).describe('A drop-folder file is read once its size and mtime have not changed for this long.'),
    COLLECTOR_DROP_SCAN_INTERVAL_MS: intVar(100).default(5_000).describe('Periodic scan of the drop folder, besides file-system notifications.'),
    COLLECTOR_SHUTDOWN_GRACE_MS: intVar(0).default(30_000).describe('Time allowed for in-flight requests and the current drop file to finish on shutdown.'),
  })
  .refine((env) => env.COLLECTOR_TOKENS.length > 0 || env.COLLECTOR_TOKENS_FILE !== undefined, {
    message: 'set COLLECTOR_TOKENS or COLLECTOR_TOKENS_FILE: the API does not run without authentication',
    path: ['COLLECTOR_TOKENS'],
  })
  .refine((env) => (env.COLLECTOR_TLS_CERT_FILE === undefined) === (env.COLLECTOR_TLS_KEY_FILE === undefined), {
    message: 'HTTPS needs both COLLECTOR_TLS_CERT_FILE and COLLECTOR_TLS_KEY_FILE',
    path: ['COLLECTOR_TLS_KEY_FILE'],
  })
  .refine((env) => env.COLLECTOR_TLS_CA_FILE === undefined || env.COLLECTOR_TLS_CERT_FILE !== undefined, {
    message: 'client certificates (COLLECTOR_TLS_CA_FILE) need HTTPS: set COLLECTOR_TLS_CERT_FILE and COLLECTOR_TLS_KEY_FILE',
    path: ['COLLECTOR_TLS_CA_FILE'],
  });

/** The collector's config as it reads it: camelCase, grouped by concern. */
export const CollectorConfigSchema = CollectorEnvSchema.transform((e) => ({
  logLevel: e.LOG_LEVEL,
  ...toKafkaConfig(e),
  http: {
    host: e.COLLECTOR_HOST,
    port: e.COLLECTOR_PORT,
    maxBodyBytes: e.COLLECTOR_MAX_BODY_BYTES,
    maxDecompressedBytes: e.COLLECTOR_MAX_DECOMPRESSED_BYTES,
    maxInFlightRequests: e.COLLECTOR_MAX_IN_FLIGHT_REQUESTS,
    maxInFlightBytes: e.COLLECTOR_MAX_IN_FLIGHT_BYTES,
    retryAfterSeconds: e.COLLECTOR_RETRY_AFTER_SECONDS,
    requestTimeoutMs: e.COLLECTOR_REQUEST_TIMEOUT_MS,
    headersTimeoutMs: e.COLLECTOR_HEADERS_TIMEOUT_MS,
    idleTimeoutMs: e.COLLECTOR_IDLE_TIMEOUT_MS,
    keepAliveTimeoutMs: e.COLLECTOR_KEEP_ALIVE_TIMEOUT_MS,
  },
  tls: {
    certFile: e.COLLECTOR_TLS_CERT_FILE,
    keyFile: e.COLLECTOR_TLS_KEY_FILE,
    caFile: e.COLLECTOR_TLS_CA_FILE,
    reloadPollMs: e.COLLECTOR_TLS_RELOAD_POLL_MS,
  },
  auth: {
    tokens: e.COLLECTOR_TOKENS,
    tokensFile: e.COLLECTOR_TOKENS_FILE,
    tokensFilePollMs: e.COLLECTOR_TOKENS_FILE_POLL_MS,
    maxFailures: e.COLLECTOR_AUTH_MAX_FAILURES,
    failureWindowMs: e.COLLECTOR_AUTH_FAILURE_WINDOW_MS,
  },
  kafkaRetryIntervalMs: e.COLLECTOR_KAFKA_RETRY_INTERVAL_MS,
  publishBatchRecords: e.COLLECTOR_PUBLISH_BATCH_RECORDS,
  maxReportedRejections: e.COLLECTOR_MAX_REPORTED_REJECTIONS,
  maxEventTimeSkewMs: e.COLLECTOR_MAX_EVENT_TIME_SKEW_MS,
  maxClockSkewMs: e.COLLECTOR_MAX_CLOCK_SKEW_MS,
  dropFolder: {
    dir: e.COLLECTOR_DROP_DIR,
    stableMs: e.COLLECTOR_DROP_STABLE_MS,
    scanIntervalMs: e.COLLECTOR_DROP_SCAN_INTERVAL_MS,
  },
  shutdownGraceMs: e.COLLECTOR_SHUTDOWN_GRACE_MS,
}));

export type CollectorConfig = z.infer<typeof CollectorConfigSchema>;

/** Parses the collector's variables once; the entry point passes the environment. */
export function loadCollectorConfig(env: Env): CollectorConfig {
  return loadConfig(CollectorConfigSchema, env);
}
