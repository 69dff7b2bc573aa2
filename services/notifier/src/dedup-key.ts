import { createHash } from 'node:crypto';
import type { RuleName } from './notification';

/** PagerDuty's dedup_key limit; the other targets take anything. */
const MAX_DEDUP_KEY = 255;

/**
 * Stable key of one alert: the same condition always maps to the same key, across
 * restarts and instances, so a target can correlate trigger, updates and resolve.
 */
export function buildDedupKey(rule: RuleName | 'test', ...parts: readonly string[]): string {
  const readable = ['calwatch', rule, ...parts].join('/');
  if (readable.length <= MAX_DEDUP_KEY) return readable;
  const digest = createHash('sha256').update(readable).digest('hex').slice(0, 32);
  return `calwatch/${rule}/${digest}`;
}
