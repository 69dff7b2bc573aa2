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
