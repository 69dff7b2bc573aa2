import { SHARED_ERRORS, isCalwatchError } from '@calwatch/model';
import { type Logger, type Readiness, retry } from '@calwatch/runtime';
import { planSends } from './record-size';
import type { OutgoingRecord } from './types';

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

export interface PlannedSendOptions {
  maxRecordBytes: number;
  /** 0: fail at the first retriable failure (callers with back-pressure of their own). */
  budgetMs: number;
  backoff: { minDelayMs: number; maxDelayMs: number };
  signal: AbortSignal;
  readiness: Readiness | undefined;
  /** This producer's name in the readiness reasons. */
  reason: string;
  logger: Logger;
}

/**
 * A producer's send, whatever the library: refuses an oversized record before anything is
 * sent (the broker must never see a record it refuses), splits the rest into requests under
 * the broker's limit, and rides out an outage per request with readiness false meanwhile.
 */
export async function sendPlanned(records: readonly OutgoingRecord[], sendRun: (run: readonly OutgoingRecord[]) => Promise<void>, options: PlannedSendOptions): Promise<void> {
  if (records.length === 0) return;
  const runs = planSends(records, { maxBytes: options.maxRecordBytes });
  for (const run of runs) {
    if (options.budgetMs === 0) {
      await sendRun(run);
      continue;
    }
    await rideOutOutage(() => sendRun(run), {
      budgetMs: options.budgetMs,
      ...options.backoff,
      action: 'produce',
      signal: options.signal,
      onRetry: (error, attempt, delayMs) => {
        const message = error instanceof Error ? error.message : String(error);
        options.readiness?.set(options.reason, `send failing: ${message}`);
        options.logger.warn({ err: error, attempt, delayMs, topics: [...new Set(run.map((r) => r.topic))] }, 'send failed; retrying within the outage budget');
      },
    });
  }
  options.readiness?.set(options.reason, undefined);
}
