/**
 * Identity normalisation. The license server indexes per-device CALs on the client
 * HardwareID; names are only what the client said. Both are kept as seen and normalised
 * so that the same device compares equal whatever rendering an export used.
 */

const HWID_SEPARATORS = /[\s\-:{},._]/g;
const HEX_ONLY = /^[0-9a-f]+$/;

/**
 * Normalises an HWID rendering to bare lower-case hex (no `0x`, braces or separators).
 * Returns undefined when what remains is empty or not hex, so callers can reject it.
 */
export function normalizeHwid(raw: string): string | undefined {
  // One pass over ASCII renderings (every export has one per row); the regexes otherwise.
  if (raw.length > SCRATCH.length) return normalizeHwidByRegex(raw);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    let c = raw.charCodeAt(i);
    if (c >= 128) return normalizeHwidByRegex(raw);
    if (c >= 65 && c <= 90) c += 32;
    if (c === 48 && i + 1 < raw.length && (raw.charCodeAt(i + 1) | 32) === 120) {
      // `0x` goes, wherever it is, before separators go (as the regexes do it).
      i++;
      continue;
    }
    if ((c >= 48 && c <= 57) || (c >= 97 && c <= 102)) SCRATCH[n++] = c;
    else if (!IS_SEPARATOR[c]) return undefined;
  }
  return n > 0 ? SCRATCH.toString('latin1', 0, n) : undefined;
}

const SCRATCH = Buffer.alloc(1024);
/** ASCII characters HWID_SEPARATORS matches: whitespace and - : { } , . _ */
const IS_SEPARATOR = Array.from({ length: 128 }, (_, c) => /^[\s\-:{},._]$/.test(String.fromCharCode(c)));

/** The definition normalizeHwid follows. */
function normalizeHwidByRegex(raw: string): string | undefined {
  const bare = raw.trim().toLowerCase().replace(/0x/g, '').replace(HWID_SEPARATORS, '');
  return bare.length > 0 && HEX_ONLY.test(bare) ? bare : undefined;
}

/**
 * Normalises a computer (or license server) name: trimmed, leading `\\` removed, DNS
 * domain suffix dropped, upper case. `pc01.corp.example` and `PC01` are one computer.
 */
export function normalizeComputer(raw: string): string {
  const trimmed = raw.trim().replace(/^\\\\/, '');
  const dot = trimmed.indexOf('.');
  const host = dot > 0 ? trimmed.slice(0, dot) : trimmed;
  return host.toUpperCase();
}
