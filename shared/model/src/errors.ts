/**
 * Errors with stable codes. Callers branch on `code` or `retriable`, never on message
 * text. Each package declares its codes in one table (see SHARED_ERRORS) so a test can
 * keep them unique and documented.
 */
export interface ErrorSpec {
  /** What it means and what to do, for the error-code reference. */
  description: string;
  retriable: boolean;
}

export class CalwatchError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(
    code: string,
    message: string,
    options: { retriable?: boolean; context?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CalwatchError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.context = Object.freeze({ ...(options.context ?? {}) });
  }
}

/**
 * Builds a typed error factory from a code table: `errors.create('SHARED_CONFIG_INVALID', msg, ctx)`
 * fills `retriable` from the table so call sites cannot disagree with it.
 */
export function defineErrors<const T extends Record<string, ErrorSpec>>(table: T) {
  return {
    table,
    create(
      code: keyof T & string,
      message: string,
      options: { context?: Record<string, unknown>; cause?: unknown } = {},
    ): CalwatchError {
      return new CalwatchError(code, message, { ...options, retriable: table[code]!.retriable });
    },
  };
}

export function isCalwatchError(error: unknown, code?: string): error is CalwatchError {
  return error instanceof CalwatchError && (code === undefined || error.code === code);
}

export const SHARED_ERRORS = defineErrors({
  SHARED_CONFIG_INVALID: {
    description: 'Configuration failed validation; the message lists every problem. Fix the environment and restart.',
    retriable: false,
  },
  SHARED_RETRY_EXHAUSTED: {
    description: 'An operation kept failing with retriable errors until the retry budget ran out; `cause` is the last error.',
    retriable: false,
  },
  SHARED_KAFKA_UNAVAILABLE: {
    description: 'The Kafka cluster could not be reached or did not answer in time.',
    retriable: true,
  },
  SHARED_KAFKA_REQUEST_FAILED: {
    description: 'Kafka refused a request for a reason that retrying will not fix (authorisation, invalid topic, a record the broker found too large).',
    retriable: false,
  },
  SHARED_KAFKA_RECORD_TOO_LARGE: {
    description:
      'A record is larger than its topic allows (KAFKA_MAX_RECORD_BYTES, or the topic\'s own limit): refused before it was sent, so nothing of the send reached the broker. Context names topic, partition, key prefix, size and limit. Make the record smaller (split the state) or raise the limit together with the topic\'s max.message.bytes.',
    retriable: false,
  },
  SHARED_KAFKA_OUTAGE_EXCEEDED: {
    description:
      'Kafka stayed unreachable (or a consumer kept failing without progress) for longer than KAFKA_OUTAGE_BUDGET_MS; the service stops with a non-zero exit so a supervisor restarts it.',
    retriable: false,
  },
  SHARED_ELASTICSEARCH_UNAVAILABLE: {
    description: 'Elasticsearch could not be reached, answered 429 or 5xx; retried with backoff.',
    retriable: true,
  },
  SHARED_ELASTICSEARCH_REQUEST_FAILED: {
    description: 'Elasticsearch rejected a request for good (mapping conflict, bad request, authorisation).',
    retriable: false,
  },
});
