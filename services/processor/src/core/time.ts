/** Event-time arithmetic. State keeps epoch milliseconds; messages and findings carry ISO. */
export const DAY_MS = 86_400_000;

/**
 * Every message carries ISO instants and every stage reads a few: the canonical form
 * (`2024-06-12T08:30:00.000Z`, what toIso and the collector write) is read by hand, which is
 * several times cheaper than Date.parse; anything else goes to Date.parse.
 */
export function toMs(iso: string): number {
  const fast = iso.length === 24 ? parseCanonical(iso) : Number.NaN;
  return Number.isNaN(fast) ? Date.parse(iso) : fast;
}

function parseCanonical(s: string): number {
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58) return Number.NaN;
  if (s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46 || s.charCodeAt(23) !== 90) return Number.NaN;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  const milli = digits(s, 20, 3);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return Number.NaN;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || milli < 0) return Number.NaN;
  return daysFromCivil(year, month, day) * DAY_MS + hour * 3_600_000 + minute * 60_000 + second * 1000 + milli;
}

/** The decimal value of s[from, from + count), or -1 when a character is not a digit. */
function digits(s: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
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
