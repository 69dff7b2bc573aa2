/**
 * Epoch milliseconds to and from the ISO instants calwatch writes (`2024-06-12T09:30:15.123Z`).
 * An export of a million rows converts a few million dates; Date#toISOString and Date.parse
 * are several times slower than this arithmetic. Anything else falls back to Date.
 */

const DAY_MS = 86_400_000;
const FAST_MIN_MS = Date.UTC(1000, 0, 1);
const FAST_MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const PAD2 = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));

/**
 * The last two instants written or read. A parser writes a row's dates as ISO text and the
 * table that stores them reads them straight back (two per row of an export), and the stages
 * of one event read its few instants again. A pure memo: no result depends on input order.
 */
let lastIso = '';
let lastMs = Number.NaN;
let previousIso = '';
let previousMs = Number.NaN;

/** `new Date(ms).toISOString()`, faster for years 1000..9999. */
export function isoFromMs(ms: number): string {
  const iso = isoOf(ms);
  // Only instants the text gives back exactly (whole milliseconds).
  if (Number.isInteger(ms)) remember(iso, ms);
  return iso;
}

function remember(iso: string, ms: number): void {
  previousIso = lastIso;
  previousMs = lastMs;
  lastIso = iso;
  lastMs = ms;
}

function isoOf(ms: number): string {
  if (!(ms >= FAST_MIN_MS && ms <= FAST_MAX_MS) || !Number.isInteger(ms)) return new Date(ms).toISOString();
  const days = Math.floor(ms / DAY_MS);
  let rest = ms - days * DAY_MS;
  // Civil date from days since 1970-01-01 (H. Hinnant's days_from_civil, inverted).
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  return `${year}-${PAD2[month]}-${PAD2[day]}T${PAD2[hour]}:${PAD2[minute]}:${PAD2[second]}.${PAD3[rest - second * 1000]}Z`;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two decimal digits at text[at], or -1. */
function digits2(text: string, at: number): number {
  const a = text.charCodeAt(at) - 48;
  const b = text.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * `Date.parse(iso)`, faster for the form isoFromMs writes (years 1000..9999); any other text
 * is left to Date.parse.
 */
export function msFromIso(iso: string): number {
  if (iso === lastIso) return lastMs;
  if (iso === previousIso) return previousMs;
  const ms = parseIsoMs(iso);
  remember(iso, ms);
  return ms;
}

function parseIsoMs(iso: string): number {
  if (
    iso.length !== 24 ||
    iso.charCodeAt(4) !== 45 ||
    iso.charCodeAt(7) !== 45 ||
    iso.charCodeAt(10) !== 84 ||
    iso.charCodeAt(13) !== 58 ||
    iso.charCodeAt(16) !== 58 ||
    iso.charCodeAt(19) !== 46 ||
    iso.charCodeAt(23) !== 90
  ) {
    return Date.parse(iso);
  }
  const century = digits2(iso, 0);
  const yy = digits2(iso, 2);
  const month = digits2(iso, 5);
  const day = digits2(iso, 8);
  const hour = digits2(iso, 11);
  const minute = digits2(iso, 14);
  const second = digits2(iso, 17);
  const centi = digits2(iso, 20);
  const unit = iso.charCodeAt(22) - 48;
  const year = century * 100 + yy;
  if (century < 10 || yy < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59) return Date.parse(iso);
  if (second < 0 || second > 59 || centi < 0 || unit < 0 || unit > 9) return Date.parse(iso);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : MONTH_DAYS[month - 1]!)) return Date.parse(iso);
  // Days since 1970-01-01 (H. Hinnant's days_from_civil).
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  const days = era * 146_097 + doe - 719_468;
  return days * DAY_MS + hour * 3_600_000 + minute * 60_000 + second * 1000 + centi * 10 + unit;
}
