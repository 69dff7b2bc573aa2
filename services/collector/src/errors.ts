import { defineErrors, type ErrorSpec } from '@calwatch/model';

/** A collector error: what it means, whether retrying helps, and the HTTP status it maps to. */
export interface CollectorErrorSpec extends ErrorSpec {
  /** Status of the response when the error ends a request; 500 for errors outside requests. */
  httpStatus: number;
}

/**
 * Every code the collector reports: in HTTP error bodies, in dead letters it writes itself
 * and in start-up failures. Parser rejection codes (INGEST_…) come from shared.
 */
export const COLLECTOR_ERRORS = defineErrors({
  COLLECTOR_UNAUTHORIZED: {
    description: 'The request carried no bearer token or one that is not configured (COLLECTOR_TOKENS / COLLECTOR_TOKENS_FILE).',
    retriable: false,
    httpStatus: 401,
  },
  COLLECTOR_FORBIDDEN: {
    description: 'The bearer token is limited to other license servers (COLLECTOR_TOKENS `token=LS01|LS02`) than the data names; nothing of that server was published.',
    retriable: false,
    httpStatus: 403,
  },
  COLLECTOR_AUTH_RATE_LIMITED: {
    description: 'Too many failed authentications from this client address (COLLECTOR_AUTH_MAX_FAILURES per COLLECTOR_AUTH_FAILURE_WINDOW_MS); retry after the Retry-After delay.',
    retriable: true,
    httpStatus: 429,
  },
  COLLECTOR_UNSUPPORTED_MEDIA_TYPE: {
    description: 'The Content-Type is not one this endpoint reads; the message lists the accepted types.',
    retriable: false,
    httpStatus: 415,
  },
  COLLECTOR_UNSUPPORTED_ENCODING: {
    description: 'The Content-Encoding is not gzip or identity.',
    retriable: false,
    httpStatus: 415,
  },
  COLLECTOR_BODY_TOO_LARGE: {
    description: 'The request body exceeds COLLECTOR_MAX_BODY_BYTES (as sent, before decompression); split the upload.',
    retriable: false,
    httpStatus: 413,
  },
  COLLECTOR_DECOMPRESSED_TOO_LARGE: {
    description: 'The gzip body inflates beyond COLLECTOR_MAX_DECOMPRESSED_BYTES (a gzip bomb or an upload to split); reading stopped there.',
    retriable: false,
    httpStatus: 413,
  },
  COLLECTOR_BAD_GZIP: {
    description: 'The body was declared gzip but is not valid or is truncated gzip data.',
    retriable: false,
    httpStatus: 400,
  },
  COLLECTOR_EMPTY_BODY: {
    description: 'The request body is empty.',
    retriable: false,
    httpStatus: 400,
  },
  COLLECTOR_UNPARSEABLE: {
    description: 'No record of the body could be read; every rejection went to the dead-letter topic and the first reasons are in the response.',
    retriable: false,
    httpStatus: 400,
  },
  COLLECTOR_EMPTY_SNAPSHOT: {
    description: 'A snapshot export holds no license rows. An empty table is refused rather than read as "every license returned".',
    retriable: false,
    httpStatus: 400,
  },
  COLLECTOR_BAD_HEADER: {
    description: 'A calwatch header is malformed: X-Calwatch-Snapshot-Time not an ISO instant or too far in the future, X-Calwatch-License-Server not a host name.',
    retriable: false,
    httpStatus: 400,
  },
  COLLECTOR_BODY_ABORTED: {
    description: 'The client closed the connection before the body was complete; nothing after the break was read.',
    retriable: true,
    httpStatus: 400,
  },
  COLLECTOR_BUSY: {
    description: 'The in-flight budget (COLLECTOR_MAX_IN_FLIGHT_REQUESTS / _BYTES) is used up because Kafka is not keeping up; retry after the Retry-After delay.',
    retriable: true,
    httpStatus: 429,
  },
  COLLECTOR_KAFKA_UNAVAILABLE: {
    description: 'Kafka could not take the records (broker down or unreachable); retry after the Retry-After delay. Records of a failed request may have been partly published; re-sending is safe (deterministic event ids).',
    retriable: true,
    httpStatus: 503,
  },
  COLLECTOR_NOT_READY: {
    description: 'The collector is still restoring snapshot state from Kafka, or is shutting down; retry shortly.',
    retriable: true,
    httpStatus: 503,
  },
  COLLECTOR_PUBLISH_FAILED: {
    description: 'Kafka refused the records for a reason retrying will not fix (authorisation, record too large); see the logs.',
    retriable: false,
    httpStatus: 500,
  },
  COLLECTOR_BAD_REQUEST: {
    description: 'The HTTP request itself is malformed (as reported by the HTTP server: bad URL, bad header framing).',
    retriable: false,
    httpStatus: 400,
  },
  COLLECTOR_NOT_FOUND: {
    description: 'No such endpoint (or method) in the collector API.',
    retriable: false,
    httpStatus: 404,
  },
  COLLECTOR_INTERNAL: {
    description: 'An unexpected failure inside the collector; the request was not processed completely. The logs carry the cause.',
    retriable: true,
    httpStatus: 500,
  },
  COLLECTOR_INVALID_EVENT: {
    description: 'Dead-letter code: a record was read but the event built from it fails the canonical schema; `issues` lists why.',
    retriable: false,
    httpStatus: 400,
  },
  COLLECTOR_EVENT_TIME_AHEAD: {
    description: 'Dead-letter code: the event time is more than COLLECTOR_MAX_EVENT_TIME_SKEW_MS past the collector clock (a source with a wrong clock); it would move the processor past every real event.',
    retriable: false,
    httpStatus: 400,
  },
  COLLECTOR_WRONG_ENDPOINT: {
    description: 'Dead-letter code: a record of another kind than the endpoint takes (e.g. a license row posted to /v1/events); post it to its endpoint.',
    retriable: false,
    httpStatus: 400,
  },
  COLLECTOR_TOPICS_MISSING: {
    description: 'Start-up: calwatch topics do not exist. Run `calwatch setup` with the same CALWATCH_TOPIC_PREFIX, then start the collector.',
    retriable: false,
    httpStatus: 500,
  },
  COLLECTOR_STATE_INVALID: {
    description: 'A record of the snapshot-state topic does not decode; it is skipped (the last valid value of its key stands; without a head the next snapshot of that server is diffed as a first one).',
    retriable: false,
    httpStatus: 500,
  },
  COLLECTOR_STATE_RESTORE_FAILED: {
    description: 'Start-up: the snapshot-state topic could not be read to its end; the collector does not serve snapshots without it.',
    retriable: true,
    httpStatus: 500,
  },
  COLLECTOR_TLS_FILES_UNREADABLE: {
    description:
      'COLLECTOR_TLS_CERT_FILE, COLLECTOR_TLS_KEY_FILE or COLLECTOR_TLS_CA_FILE could not be read or do not form a valid key pair; at start this is fatal, on reload the certificate in force stays.',
    retriable: false,
    httpStatus: 500,
  },
  COLLECTOR_TOKENS_FILE_UNREADABLE: {
    description: 'COLLECTOR_TOKENS_FILE could not be read; at start this is fatal, on reload the previous tokens stay in force.',
    retriable: false,
    httpStatus: 500,
  },
  COLLECTOR_DROP_FILE_FAILED: {
    description: 'A drop-folder file could not be ingested (unreadable, empty, nothing parseable); it was moved to failed/ with <name>.error.json.',
    retriable: false,
    httpStatus: 500,
  },
} satisfies Record<string, CollectorErrorSpec>);

export type CollectorErrorCode = keyof typeof COLLECTOR_ERRORS.table;

export function httpStatusOf(code: string): number {
  const spec = (COLLECTOR_ERRORS.table as Record<string, CollectorErrorSpec | undefined>)[code];
  return spec?.httpStatus ?? 500;
}
