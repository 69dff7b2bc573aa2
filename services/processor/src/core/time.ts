import { msFromIso } from '@calwatch/model';
/** Event-time arithmetic. State keeps epoch milliseconds; messages and findings carry ISO. */
export const DAY_MS = 86_400_000;

/**
 * Every message carries ISO instants and every stage reads a few: the canonical form
 * (`2024-06-12T08:30:00.000Z`, what toIso and the collector write) is read by hand, several
 * times cheaper than Date.parse (msFromIso; anything else goes to Date.parse).
 */
export function toMs(iso: string): number {
  // The stages of one event read the same few instants again (its event time, issue and
  // expiry dates): the last two conversions are remembered. A pure memo, so still no state
  // that depends on input order.
  if (iso === lastIso) return lastMs;
  if (iso === previousIso) return previousMs;
  const ms = msFromIso(iso);
  previousIso = lastIso;
  previousMs = lastMs;
  lastIso = iso;
  lastMs = ms;
  return ms;
}
let lastIso = '';
let lastMs = Number.NaN;
let previousIso = '';
let previousMs = Number.NaN;

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
