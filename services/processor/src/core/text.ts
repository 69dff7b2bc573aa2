/** Helpers for one-line summaries: short, stable, readable in a page or a table. */

/**
 * A short, still distinguishing rendering: a 20-byte HWID starts with its PlatformId word,
 * which most clients share, so the next 12 hex digits are shown.
 */
export function shortHwid(hwid: string): string {
  if (hwid.length === 40) return `…${hwid.slice(8, 20)}…`;
  return hwid.length > 16 ? `${hwid.slice(0, 12)}…` : hwid;
}

/** `A, B and 3 more` — keeps summaries one line whatever the fleet size. */
export function listOf(items: readonly string[], max = 4): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export const REVOKE_HOW =
  'RD Licensing Manager > right-click the CAL > Revoke License, or Win32_TSIssuedLicense.Revoke() on the license server';
