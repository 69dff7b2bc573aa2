/** Event-time arithmetic. State keeps epoch milliseconds; messages and findings carry ISO. */
export const DAY_MS = 86_400_000;

/**
 * One event's instants are parsed by several stages in a row (event time, issue date,
 * expiry): a small memo of recent strings saves most of the Date.parse calls.
 */
const parsed = new Map<string, number>();
const PARSED_MAX = 4096;

export function toMs(iso: string): number {
  let ms = parsed.get(iso);
  if (ms === undefined) {
    ms = Date.parse(iso);
    if (parsed.size >= PARSED_MAX) parsed.clear();
    parsed.set(iso, ms);
  }
  return ms;
}

export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

export function daysToMs(days: number): number {
  return Math.round(days * DAY_MS);
}

/** `2024-06-12` for summaries; the full instant stays in the structured fields. */
export function toDay(ms: number): string {
  return toIso(ms).slice(0, 10);
}
