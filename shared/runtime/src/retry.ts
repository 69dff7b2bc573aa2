import { SHARED_ERRORS, isCalwatchError } from '@calwatch/model';

export interface RetryOptions {
  /** Attempts after the first one; Infinity retries until `signal` aborts or `maxElapsedMs`. */
  retries: number;
  minDelayMs: number;
  maxDelayMs: number;
  factor?: number;
  /** Give up once this much time has passed since the first attempt. */
  maxElapsedMs?: number;
  signal?: AbortSignal;
  /** Defaults to: CalwatchError.retriable, else true for anything but programming errors. */
  isRetriable?: (error: unknown) => boolean;
  /** A server-given wait (e.g. Retry-After) that overrides the backoff for the next attempt. */
  retryAfterMs?: (error: unknown) => number | undefined;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
}

const PROGRAMMING_ERRORS = [TypeError, RangeError, ReferenceError, SyntaxError];

export function isProgrammingError(error: unknown): boolean {
  return PROGRAMMING_ERRORS.some((type) => error instanceof type);
}

function defaultIsRetriable(error: unknown): boolean {
  if (isProgrammingError(error)) return false;
  if (isCalwatchError(error)) return error.retriable;
  return true;
}

/** Full-jitter exponential backoff: a random delay in [0, min(max, min * factor^attempt)]. */
export function backoffDelayMs(attempt: number, options: RetryOptions): number {
  const ceiling = Math.min(options.maxDelayMs, options.minDelayMs * (options.factor ?? 2) ** attempt);
  const random = options.random ?? Math.random;
  return Math.max(options.minDelayMs, Math.round(random() * ceiling));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The one retrier: exponential backoff with jitter; programming errors are never retried. */
export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const isRetriable = options.isRetriable ?? defaultIsRetriable;
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!isRetriable(error) || options.signal?.aborted) throw error;
      const elapsed = Date.now() - started;
      const outOfAttempts = attempt >= options.retries;
      const outOfTime = options.maxElapsedMs !== undefined && elapsed >= options.maxElapsedMs;
      if (outOfAttempts || outOfTime) {
        throw SHARED_ERRORS.create('SHARED_RETRY_EXHAUSTED', `gave up after ${attempt + 1} attempts in ${elapsed} ms`, {
          cause: error,
          context: { attempts: attempt + 1, elapsedMs: elapsed },
        });
      }
      let delay = options.retryAfterMs?.(error) ?? backoffDelayMs(attempt, options);
      if (options.maxElapsedMs !== undefined) delay = Math.min(delay, Math.max(0, options.maxElapsedMs - elapsed));
      options.onRetry?.(error, attempt + 1, delay);
      await sleep(delay, options.signal);
    }
  }
}
