import { GenericError, MultipleErrors } from '@platformatic/kafka';
import { CalwatchError } from '@calwatch/model';
import { isProgrammingError } from '@calwatch/runtime';
import { buildKafkaError } from './kafka-error';

/**
 * Every failure inside a library error, depth first: its retry history, per-broker failures
 * and causes (a failed SASL handshake is a retriable "connection failed" caused by a final
 * authentication failure).
 */
function* failuresOf(error: Error): Generator<Error> {
  yield error;
  if (GenericError.isGenericError(error) && MultipleErrors.isMultipleErrors(error)) {
    for (const inner of error.errors as unknown[]) if (inner instanceof Error) yield* failuresOf(inner);
  }
  if (error.cause instanceof Error) yield* failuresOf(error.cause);
}

/**
 * Whether waiting can fix a @platformatic/kafka failure. The library marks each failure
 * `canRetry` and retries only when every failure in the chain allows it; the adapter takes
 * the same verdict, causes included (a request timeout or a refused connection: yes; a
 * record the broker refuses, an authentication failure, a closed client: no). Failures from outside the
 * library are connection trouble, unless they are programming errors.
 */
export function isRetriablePlatformaticFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  for (const failure of failuresOf(error)) {
    if (isProgrammingError(failure)) return false;
    if (GenericError.isGenericError(failure) && (failure as GenericError).canRetry === false) return false;
  }
  return true;
}

/**
 * The failures at the bottom of a library error, each once ("MESSAGE_TOO_LARGE: The request
 * included..."): the top of the chain only says "Producing messages failed", which tells an
 * operator nothing.
 */
function rootFailures(error: Error): string[] {
  const found = new Set<string>();
  for (const failure of failuresOf(error)) {
    const inner = MultipleErrors.isMultipleErrors(failure) && (failure as MultipleErrors).errors.length > 0;
    if (failure === error || inner || failure.cause instanceof Error) continue;
    const apiId = (failure as { apiId?: unknown }).apiId;
    found.add(typeof apiId === 'string' ? `${apiId}: ${failure.message}` : failure.message);
  }
  return [...found];
}

/** Converts a @platformatic/kafka failure to SHARED_KAFKA_UNAVAILABLE or SHARED_KAFKA_REQUEST_FAILED. */
export function toPlatformaticKafkaError(error: unknown, action: string): CalwatchError {
  const roots = error instanceof Error ? rootFailures(error) : [];
  return buildKafkaError(error, action, isRetriablePlatformaticFailure(error), roots.length === 0 ? undefined : roots.join('; '));
}
