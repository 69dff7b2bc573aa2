import type { CanonicalEvent } from '@calwatch/model';
import type { CoreConfig } from './config';

/**
 * True when an event is further behind the watermark (the newest event time seen) than
 * the allowed lateness: the runtime dead-letters it (PROCESSOR_EVENT_TOO_LATE) instead of
 * applying it out of order.
 */
export function isTooLate(event: Pick<CanonicalEvent, 'eventTime'>, watermark: number | string | null, config: CoreConfig): boolean {
  if (watermark === null) return false;
  const mark = typeof watermark === 'string' ? Date.parse(watermark) : watermark;
  return Date.parse(event.eventTime) < mark - config.lateness.allowedLatenessMs;
}
