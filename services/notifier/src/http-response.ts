import type { CalwatchError } from '@calwatch/model';
import { NOTIFIER_ERRORS } from './errors';

export interface HttpResponseInfo {
  status: number;
  /** The Retry-After header, raw. */
  retryAfter: string | null;
  /** The start of the body, for diagnosis (never logged for a 2xx). */
  body: string;
}

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 10.2.3); undefined when absent or unreadable. */
export function parseRetryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP date names its weekday and month; a bare number with a sign is not one.
  if (!/^[A-Za-z]{3}, /.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/**
 * What a target's answer means: undefined for delivered, else a coded error whose
 * `retriable` drives the retrier. Teams connectors report throttling inside a 200 body.
 */
export function classifyResponse(target: { name: string; type: string }, response: HttpResponseInfo, nowMs: number): CalwatchError | undefined {
  const context = { target: target.name, status: response.status, retryAfterMs: parseRetryAfterMs(response.retryAfter, nowMs) };
  if (response.status >= 200 && response.status < 300) {
    if (target.type === 'teams' && /HTTP error 429/.test(response.body)) {
      return NOTIFIER_ERRORS.create('NOTIFIER_TARGET_RATE_LIMITED', `target ${target.name}: throttled (HTTP ${response.status} with a 429 in the body)`, { context });
    }
    return undefined;
  }
  if (response.status === 429) {
    return NOTIFIER_ERRORS.create('NOTIFIER_TARGET_RATE_LIMITED', `target ${target.name}: HTTP 429`, { context });
  }
  if (response.status === 408 || response.status >= 500) {
    return NOTIFIER_ERRORS.create('NOTIFIER_TARGET_UNAVAILABLE', `target ${target.name}: HTTP ${response.status}`, { context });
  }
  return NOTIFIER_ERRORS.create('NOTIFIER_TARGET_REJECTED', `target ${target.name}: HTTP ${response.status}: ${response.body.slice(0, 200)}`, { context });
}
