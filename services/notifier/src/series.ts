import { z } from 'zod';

/**
 * Per license server and product: new CALs per interval (event time) with who took them,
 * plus what the pool and revocation rules remember. Plain data, persisted as JSON.
 */

const Counts = z.record(z.string(), z.number().int().nonnegative());

export const SeriesBucket = z.object({
  /** Interval start, ms since the epoch. */
  start: z.number(),
  /** New CALs (license.issued). */
  issued: z.number().int().nonnegative(),
  /** Permanent CALs taken from the pool (issued permanent, or upgraded from temporary). */
  consumed: z.number().int().nonnegative(),
  /** CALs back in the pool (returned, revoked). */
  released: z.number().int().nonnegative(),
  /** The interval was part of a spike: it is left out of the baseline. */
  alerting: z.boolean(),
  offenders: Counts,
  findings: Counts,
  classes: Counts,
});
export type SeriesBucket = z.infer<typeof SeriesBucket>;

export const SeriesState = z.object({
  licenseServer: z.string(),
  product: z.string(),
  buckets: z.array(SeriesBucket),
  spike: z.object({
    active: z.boolean(),
    since: z.number().nullable(),
    belowCount: z.number().int().nonnegative(),
    /** Last closed interval index the rule has looked at. */
    lastClosedIdx: z.number().nullable(),
  }),
  /** Retired (pool exhaustion is the processor's finding now): still decoded from stored series, never read. */
  pool: z.object({
    active: z.boolean(),
    since: z.number().nullable(),
    /** Pool size reported by a pool-low / pool-exhausted event, newer than the inventory. */
    reported: z.object({ available: z.number().int().nonnegative(), at: z.number() }).nullable(),
  }).optional(),
  revocation: z
    .object({
      since: z.number(),
      until: z.number(),
      revokedCount: z.number().int().nullable(),
      installedCount: z.number().int().nullable(),
      nextRevokeAllowedAt: z.string().nullable(),
      computers: z.array(z.string()),
      lastAt: z.number(),
    })
    .nullable(),
});
export type SeriesState = z.infer<typeof SeriesState>;

/** Beyond this many distinct computers in one interval, new ones are counted but not named. */
const MAX_OFFENDERS_PER_BUCKET = 500;
/** Closed intervals keep only their biggest contributors. */
const KEEP_AFTER_CLOSE = 50;

export function createSeries(licenseServer: string, product: string): SeriesState {
  return {
    licenseServer,
    product,
    buckets: [],
    spike: { active: false, since: null, belowCount: 0, lastClosedIdx: null },
    revocation: null,
  };
}

export function bucketIndex(timeMs: number, intervalMs: number): number {
  return Math.floor(timeMs / intervalMs);
}

export function findBucket(series: SeriesState, start: number): SeriesBucket | undefined {
  return series.buckets.find((b) => b.start === start);
}

/** The bucket at `start`, created in order when missing. */
export function bucketAt(series: SeriesState, start: number): SeriesBucket {
  const existing = findBucket(series, start);
  if (existing !== undefined) return existing;
  const created: SeriesBucket = { start, issued: 0, consumed: 0, released: 0, alerting: false, offenders: {}, findings: {}, classes: {} };
  const at = series.buckets.findIndex((b) => b.start > start);
  if (at === -1) series.buckets.push(created);
  else series.buckets.splice(at, 0, created);
  return created;
}

export interface LicenseMovement {
  issued: number;
  consumed: number;
  released: number;
  computer: string | null;
  findingIds: readonly string[];
  classification: string;
}

export function recordMovement(bucket: SeriesBucket, movement: LicenseMovement): void {
  bucket.issued += movement.issued;
  bucket.consumed += movement.consumed;
  bucket.released += movement.released;
  if (movement.issued === 0 && movement.consumed === 0) return;
  const weight = Math.max(movement.issued, movement.consumed);
  if (movement.computer !== null) increment(bucket.offenders, movement.computer, weight, MAX_OFFENDERS_PER_BUCKET);
  for (const id of movement.findingIds) increment(bucket.findings, id, weight, MAX_OFFENDERS_PER_BUCKET);
  increment(bucket.classes, movement.classification, weight, Number.POSITIVE_INFINITY);
}

function increment(counts: Record<string, number>, key: string, by: number, cap: number): void {
  const current = counts[key];
  if (current !== undefined) counts[key] = current + by;
  else if (Object.keys(counts).length < cap) counts[key] = by;
}

/** Drops intervals older than the retention and trims closed ones to their top contributors. */
export function pruneSeries(series: SeriesState, currentStart: number, retentionMs: number): void {
  series.buckets = series.buckets.filter((b) => b.start >= currentStart - retentionMs);
  for (const bucket of series.buckets) {
    if (bucket.start >= currentStart) continue;
    bucket.offenders = topCounts(bucket.offenders, KEEP_AFTER_CLOSE);
    bucket.findings = topCounts(bucket.findings, KEEP_AFTER_CLOSE);
  }
}

function topCounts(counts: Record<string, number>, keep: number): Record<string, number> {
  const entries = Object.entries(counts);
  if (entries.length <= keep) return counts;
  return Object.fromEntries(entries.sort(byCountThenName).slice(0, keep));
}

function byCountThenName(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || a[0].localeCompare(b[0]);
}

/** Sums the named counts of several buckets and returns the top `limit`. */
export function topOf(buckets: readonly SeriesBucket[], field: 'offenders' | 'findings' | 'classes', limit: number): Array<[string, number]> {
  const total = new Map<string, number>();
  for (const bucket of buckets) {
    for (const [key, count] of Object.entries(bucket[field])) total.set(key, (total.get(key) ?? 0) + count);
  }
  return [...total].sort(byCountThenName).slice(0, limit);
}

/** True when nothing in the series is worth keeping (no counts, no open condition). */
export function isSeriesEmpty(series: SeriesState): boolean {
  return (
    series.buckets.length === 0 &&
    !series.spike.active &&
    series.revocation === null
  );
}
