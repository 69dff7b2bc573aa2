import { SHARED_ERRORS, isCalwatchError } from '@calwatch/model';
import { retry } from '@calwatch/runtime';

/** KAFKA_OUTAGE_BUDGET_MS when unset. */
export const DEFAULT_OUTAGE_BUDGET_MS = 5 * 60 * 1000;

/** Backoff of the adapter's own retries of sends, reads and consumer restarts. */
export const DEFAULT_OUTAGE_BACKOFF = { minDelayMs: 500, maxDelayMs: 15_000 };

export interface OutageOptions {
  /** How long retriable failures are retried before giving up (KAFKA_OUTAGE_BUDGET_MS). */
  budgetMs: number;
  minDelayMs: number;
  maxDelayMs: number;
  /** What is being done, for the error message ("produce"). */
  action: string;
  signal?: AbortSignal;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs `operation` through the shared retrier until it succeeds, fails for good, or
 * retriable failures outlast the budget: then SHARED_KAFKA_OUTAGE_EXCEEDED (not
 * retriable, so callers stop and the process exits non-zero).
 */
export async function rideOutOutage<T>(operation: () => Promise<T>, options: OutageOptions): Promise<T> {
  try {
    return await retry(operation, {
      retries: Infinity,
      minDelayMs: options.minDelayMs,
      maxDelayMs: options.maxDelayMs,
      maxElapsedMs: options.budgetMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.onRetry === undefined ? {} : { onRetry: options.onRetry }),
    });
  } catch (error) {
    if (!isCalwatchError(error, 'SHARED_RETRY_EXHAUSTED')) throw error;
    const last = error.cause instanceof Error ? error.cause.message : String(error.cause);
    throw SHARED_ERRORS.create('SHARED_KAFKA_OUTAGE_EXCEEDED', `${options.action}: Kafka unavailable for longer than the outage budget of ${options.budgetMs} ms: ${last}`, {
      cause: error.cause,
      context: { action: options.action, outageBudgetMs: options.budgetMs, ...error.context },
    });
  }
}
