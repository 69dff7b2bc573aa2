import { createHash } from 'node:crypto';

/**
 * Deterministic id from the parts that make a fact unique: the same fact read twice,
 * from any source, yields the same id, so redelivery and replays are invisible downstream.
 */
export function buildEventId(...parts: ReadonlyArray<string | number | null | undefined>): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(part === null || part === undefined ? '\u0000' : String(part));
    hash.update('\u001f');
  }
  return hash.digest('hex').slice(0, 32);
}
