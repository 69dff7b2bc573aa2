/**
 * How far past a trusted clock an event time may be (one day): a source whose clock is
 * ahead by hours is tolerated, a year-2999 time is not.
 */
export const DEFAULT_MAX_EVENT_TIME_SKEW_MS = 86_400_000;

/**
 * True when `eventTime` is more than `skewMs` past `referenceMs`. One such event would
 * move a partition's event-time clock ahead of every real event; each layer checks it
 * against the newest time it can trust (collector clock, newest input, Kafka timestamp).
 */
export function isEventTimeAhead(eventTime: string | number, referenceMs: number, skewMs: number): boolean {
  const at = typeof eventTime === 'number' ? eventTime : Date.parse(eventTime);
  return at > referenceMs + skewMs;
}

/**
 * The newest time a set of inputs vouches for (file modification or snapshot times), but
 * never past the wall clock: a file stamped 2999 vouches for nothing. The wall clock when
 * no input has a time.
 */
export function newestVouchedTimeMs(candidatesMs: Iterable<number>, nowMs: number): number {
  let newest = Number.NEGATIVE_INFINITY;
  for (const ms of candidatesMs) if (Number.isFinite(ms) && ms > newest) newest = ms;
  return Number.isFinite(newest) ? Math.min(newest, nowMs) : nowMs;
}
