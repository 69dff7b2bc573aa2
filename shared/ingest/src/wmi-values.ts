import { LICENSE_STATUS_BY_CODE, isoFromMs, type LicenseStatus } from '@calwatch/model';

/** A value read from one field: the converted value, or why it could not be read. */
export type FieldResult<T> = { ok: true; value: T } | { ok: false; expected: string };

const ok = <T>(value: T): FieldResult<T> => ({ ok: true, value });
const bad = (expected: string): FieldResult<never> => ({ ok: false, expected });

/** Shows a found value in a reason: JSON-quoted and cut to a readable length. */
export function showValue(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** null, undefined and all-blank strings are "no value" (Export-Csv writes $null as nothing). */
export function isBlank(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

const MS_DATE = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/;
const ISO_DATE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/i;
const MIN_MS = Date.UTC(1601, 0, 1);
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const DATE_EXPECTED =
  'a WMI DATETIME (yyyymmddHHMMSS.mmmmmmsUUU), an ISO 8601 instant with Z or an offset, or /Date(ms)/';

function instant(ms: number): FieldResult<string> {
  if (!Number.isFinite(ms) || ms < MIN_MS || ms > MAX_MS) return bad(`${DATE_EXPECTED} between 1601 and 9999`);
  return ok(isoFromMs(ms));
}

/**
 * Reads a WMI DATETIME: 25 fixed characters, local time plus the offset from UTC in
 * minutes. `*` marks an unspecified field; calwatch cannot place such a time, so rejects it.
 */
export function parseWmiDatetime(text: string): FieldResult<string> {
  if (text.includes('*')) {
    return bad('a WMI DATETIME with every field specified (found `*` placeholders, so the instant is unknown)');
  }
  // yyyymmddHHMMSS.mmmmmm±UUU, read digit by digit (a regex and a Date per value cost a
  // microsecond, and an export holds two per row).
  if (text.length !== 25 || text.charCodeAt(14) !== 46 /* . */) return bad(DATE_EXPECTED);
  const sign = text.charCodeAt(21);
  if (sign !== 43 /* + */ && sign !== 45 /* - */) return bad(DATE_EXPECTED);
  const y = digits(text, 0, 4);
  const mo = digits(text, 4, 2);
  const d = digits(text, 6, 2);
  const h = digits(text, 8, 2);
  const mi = digits(text, 10, 2);
  const s = digits(text, 12, 2);
  const micro = digits(text, 15, 6);
  const off = digits(text, 22, 3);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0 || micro < 0 || off < 0) return bad(DATE_EXPECTED);
  // A real DATETIME names a calendar time (Date.UTC would roll 2024-02-31 into March, and
  // read years below 100 as 19xx).
  if (y < 100 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) {
    return bad(`${DATE_EXPECTED} naming a real calendar time`);
  }
  const local = Date.UTC(y, mo - 1, d, h, mi, s, Math.floor(micro / 1000));
  const offsetMinutes = (sign === 45 ? -1 : 1) * off;
  return instant(local - offsetMinutes * 60_000);
}

/** The decimal number in text[at, at + count), or -1 when a character is not a digit. */
function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return MONTH_DAYS[month - 1]!;
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

const CULTURE_DATE = /^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\s+\d{1,2}:\d{2}/;

function parseIso(text: string): FieldResult<string> {
  const m = ISO_DATE.exec(text);
  if (m === null) {
    return CULTURE_DATE.test(text)
      ? bad(`${DATE_EXPECTED}; this looks like a culture-formatted local time (Get-CimInstance | Export-Csv), which names no time zone: export with Export-CalSnapshot.ps1 or Get-WmiObject`)
      : bad(DATE_EXPECTED);
  }
  if (m[3] === undefined) {
    return bad('an instant with a time zone (found an ISO date without Z or offset, a local time of unknown zone)');
  }
  // JavaScript reads at most milliseconds; .NET writes seven fractional digits.
  const fraction = (m[2] ?? '').slice(0, 4);
  const zone = m[3].toUpperCase() === 'Z' ? 'Z' : m[3].includes(':') ? m[3] : `${m[3].slice(0, 3)}:${m[3].slice(3)}`;
  return instant(Date.parse(`${m[1]}${fraction}${zone}`));
}

/**
 * Reads a date as exports write it: WMI DATETIME (Get-WmiObject | Export-Csv), `/Date(ms)/`
 * (Windows PowerShell ConvertTo-Json), the ETS object `{ value: "/Date(ms)/", DateTime }`,
 * or ISO 8601 with Z or offset (PowerShell 7). Returns a UTC instant with milliseconds.
 */
export function parseDate(value: unknown): FieldResult<string> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const inner = (value as Record<string, unknown>)['value'];
    if (inner !== undefined) return parseDate(inner);
    return bad(`${DATE_EXPECTED} (or an object with a "value" holding one)`);
  }
  if (typeof value !== 'string') return bad(DATE_EXPECTED);
  const text = value.trim();
  if (/^[\d*]{14}\./.test(text)) return parseWmiDatetime(text);
  const ms = MS_DATE.exec(text);
  if (ms !== null) return instant(Number(ms[1]));
  return parseIso(text);
}

const UINT32_MAX = 4294967295;

/** A uint32 as a JSON number or a string of decimal digits. */
export function parseUint32(value: unknown): FieldResult<number> {
  const expected = 'an unsigned 32-bit integer';
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 && value <= UINT32_MAX ? ok(value) : bad(expected);
  }
  if (typeof value === 'string' && /^\s*\d{1,10}\s*$/.test(value)) {
    const n = Number(value);
    return n <= UINT32_MAX ? ok(n) : bad(expected);
  }
  return bad(expected);
}

/** A signed integer (KeyPackType, ProductVersionID) as a number or decimal string. */
export function parseInteger(value: unknown): FieldResult<number> {
  const expected = 'an integer';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? ok(value) : bad(expected);
  if (typeof value === 'string' && /^\s*-?\d{1,15}\s*$/.test(value)) return ok(Number(value));
  return bad(expected);
}

// A Map, not an object: a name read from input ('__proto__', 'constructor') must not find
// what every object inherits.
const STATUS_ALIASES = new Map<string, LicenseStatus>([
  ['permanent', 'active'],
  ['upgraded', 'upgrade'],
]);

/** Written once: an export parses a status per row. */
const LICENSE_STATUS_EXPECTED = `a LicenseStatus code 0..6 or one of ${LICENSE_STATUS_BY_CODE.join(', ')}`;

/** LicenseStatus as its code 0..6 (the WMI value) or its name, in any case. */
export function parseLicenseStatus(value: unknown): FieldResult<LicenseStatus> {
  const expected = LICENSE_STATUS_EXPECTED;
  const code = parseUint32(value);
  if (code.ok) {
    const status = LICENSE_STATUS_BY_CODE[code.value];
    return status === undefined ? bad(expected) : ok(status);
  }
  if (typeof value !== 'string') return bad(expected);
  const name = value.trim().toLowerCase();
  const status = (LICENSE_STATUS_BY_CODE as readonly string[]).includes(name)
    ? (name as LicenseStatus)
    : STATUS_ALIASES.get(name);
  return status === undefined ? bad(expected) : ok(status);
}

/** A string field: strings as they are, numbers rendered; anything else is not a string. */
export function parseText(value: unknown): FieldResult<string> {
  if (typeof value === 'string') return ok(value);
  if (typeof value === 'number' || typeof value === 'boolean') return ok(String(value));
  return bad('a string');
}
