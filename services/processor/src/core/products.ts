import type { KeyPackFact } from '@calwatch/model';

/**
 * Product keys. Keypacks say `Windows Server 2019`, events say `Windows Server 2019 - RDS
 * Per Device CAL` or similar; both reduce to the version (`2019`, `2008 R2`). Windows
 * Server 7 is 2008 R2 in CAL naming.
 */
export function productKeyOf(product: string): string {
  const text = product.trim().toLowerCase();
  if (/windows server 7\b/.test(text)) return '2008 R2';
  const match = /\b(20\d\d)(\s*r2)?\b/.exec(text);
  if (match) return match[2] === undefined ? match[1]! : `${match[1]} R2`;
  return text.length > 0 ? text : 'unknown';
}

/**
 * Per-device permanent key packs make the pool the 20% cap and exhaustion are about:
 * not per-user packs, not the built-in or temporary packs (KeyPackType 4).
 */
export function isPerDevicePool(keyPack: KeyPackFact): boolean {
  const label = `${keyPack.typeAndModel} ${keyPack.description}`.toLowerCase();
  if (keyPack.keyPackType === 4) return false;
  if (/per\s*user/.test(label)) return false;
  if (/built-?\s*in/.test(label)) return false;
  return true;
}
