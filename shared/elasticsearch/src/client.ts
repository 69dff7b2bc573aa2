import { readFileSync } from 'node:fs';
import { Client, errors as esErrors } from '@elastic/elasticsearch';
import type { ElasticsearchConnection } from '@calwatch/runtime';
import { CalwatchError, SHARED_ERRORS } from '@calwatch/model';

export type ElasticsearchClient = Client;

export interface ElasticsearchClientOptions {
  connection: ElasticsearchConnection;
  requestTimeoutMs?: number;
  /** Client-level retries on connection errors and 502/503/504; bulk retries are the writer's. */
  maxRetries?: number;
}

/** The one place that builds an Elasticsearch client: auth (basic or API key) and TLS. */
export function createElasticsearchClient(options: ElasticsearchClientOptions): ElasticsearchClient {
  const { connection } = options;
  const tls =
    connection.caFile !== undefined || connection.tlsInsecure
      ? {
          ...(connection.caFile === undefined ? {} : { ca: readFileSync(connection.caFile) }),
          rejectUnauthorized: !connection.tlsInsecure,
        }
      : undefined;
  return new Client({
    node: connection.url,
    ...(connection.auth === undefined ? {} : { auth: connection.auth }),
    ...(tls === undefined ? {} : { tls }),
    ...(connection.caFingerprint === undefined ? {} : { caFingerprint: connection.caFingerprint }),
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    maxRetries: options.maxRetries ?? 3,
  });
}

/** 429, 5xx and connection failures are worth retrying; everything else is final. */
export function isRetriableElasticsearchError(error: unknown): boolean {
  if (error instanceof esErrors.ResponseError) {
    const status = error.statusCode ?? 0;
    return status === 429 || status >= 500;
  }
  return (
    error instanceof esErrors.ConnectionError ||
    error instanceof esErrors.TimeoutError ||
    error instanceof esErrors.NoLivingConnectionsError
  );
}

export function toElasticsearchError(error: unknown, action: string): CalwatchError {
  if (error instanceof CalwatchError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = isRetriableElasticsearchError(error) ? 'SHARED_ELASTICSEARCH_UNAVAILABLE' : 'SHARED_ELASTICSEARCH_REQUEST_FAILED';
  return SHARED_ERRORS.create(code, `${action}: ${message}`, { cause: error, context: { action } });
}
