import { CalwatchError, SHARED_ERRORS } from '@calwatch/model';

/**
 * The coded form of a client failure, whichever library raised it: SHARED_KAFKA_UNAVAILABLE
 * when waiting can fix it (the outage budget rides it out), SHARED_KAFKA_REQUEST_FAILED when not.
 */
export function buildKafkaError(error: unknown, action: string, retriable: boolean, detail?: string): CalwatchError {
  if (error instanceof CalwatchError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const text = detail === undefined ? `${action}: ${message}` : `${action}: ${message} (${detail})`;
  return SHARED_ERRORS.create(retriable ? 'SHARED_KAFKA_UNAVAILABLE' : 'SHARED_KAFKA_REQUEST_FAILED', text, {
    cause: error,
    context: { action },
  });
}
