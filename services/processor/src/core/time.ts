/** Event-time arithmetic. State keeps epoch milliseconds; messages and findings carry ISO. */
export const DAY_MS = 86_400_000;

export function toMs(iso: string): number {
  return Date.parse(iso);
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
