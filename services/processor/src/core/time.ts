import { isoFromMs, msFromIso } from '@calwatch/model';
/** Event-time arithmetic. State keeps epoch milliseconds; messages and findings carry ISO. */
export const DAY_MS = 86_400_000;

/**
 * Every message carries ISO instants and every stage reads a few: the canonical form
 * (`2024-06-12T08:30:00.000Z`, what toIso and the collector write) is read by hand, several
 * times cheaper than Date.parse (msFromIso; anything else goes to Date.parse). The stages of
 * one event read the same few instants again: msFromIso remembers the last two.
 */
export function toMs(iso: string): number {
  return msFromIso(iso);
}

/** `new Date(ms).toISOString()`, by hand (isoFromMs): findings and their timelines write several per update. */
export function toIso(ms: number): string {
  return isoFromMs(ms);
}

export function daysToMs(days: number): number {
  return Math.round(days * DAY_MS);
}

/** `2024-06-12` for summaries; the full instant stays in the structured fields. */
export function toDay(ms: number): string {
  return toIso(ms).slice(0, 10);
}
