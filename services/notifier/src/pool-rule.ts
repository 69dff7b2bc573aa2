import type { Condition } from './alert-machine';
import { buildDedupKey } from './dedup-key';
import type { AlertDetails } from './notification';
import { POOL_REMEDIATION } from './remediation';
import { POOL_CLEAR_FACTOR, type RuleSettings } from './rule-settings';
import { topOf, type SeriesState } from './series';

/** The pool of one product on one license server, summed over its key packs. */
export interface PoolInventory {
  available: number;
  total: number;
  /** Event time of the newest key-pack snapshot behind it. */
  at: number;
}

export function poolDedupKey(series: SeriesState): string {
  return buildDedupKey('pool-exhaustion', series.licenseServer, series.product);
}

const DAY_MS = 86_400_000;

/**
 * Projects when the pool runs dry from the net permanent-CAL consumption over the rate
 * window. Pages when that is within the horizon (or the pool is already empty); clears
 * only once the projection is comfortably beyond it. Mutates the series' pool state.
 */
export function evaluatePool(series: SeriesState, inventory: PoolInventory | null, now: number, settings: RuleSettings): Condition {
  const p = settings.pool;
  const reported = series.pool.reported;
  const useReported = reported !== null && (inventory === null || reported.at >= inventory.at);
  const available = useReported ? reported.available : (inventory?.available ?? null);
  const windowBuckets = series.buckets.filter((b) => b.start + settings.spike.intervalMs > now - p.rateWindowMs && b.start <= now);
  const net = windowBuckets.reduce((sum, b) => sum + b.consumed - b.released, 0);
  const netPerMs = net / p.rateWindowMs;

  let msToEmpty = Number.POSITIVE_INFINITY;
  if (available !== null) {
    if (available <= 0) msToEmpty = 0;
    else if (netPerMs > 0) msToEmpty = available / netPerMs;
  }
  const pageNow = msToEmpty <= p.horizonMs;
  const clear = msToEmpty > p.horizonMs * POOL_CLEAR_FACTOR;
  if (pageNow && !series.pool.active) {
    series.pool.active = true;
    series.pool.since = now;
  } else if (clear && series.pool.active) {
    series.pool.active = false;
  }

  const exhausted = msToEmpty === 0;
  const severity = exhausted || msToEmpty <= p.horizonMs / 4 ? 'critical' : 'high';
  const projectedAt = Number.isFinite(msToEmpty) ? new Date(now + msToEmpty).toISOString() : 'never';
  const summary =
    available === null
      ? 'Pool size unknown: no key-pack inventory yet.'
      : exhausted
        ? `No permanent CALs left${inventory !== null ? ` of ${inventory.total}` : ''}; clients get temporary CALs until CALs are added or freed.`
        : Number.isFinite(msToEmpty)
          ? `${available} CALs left${inventory !== null ? ` of ${inventory.total}` : ''}; at ${(netPerMs * DAY_MS).toFixed(1)} net per day they run out in ${formatDuration(msToEmpty)} (${projectedAt}).`
          : `${available} CALs left${inventory !== null ? ` of ${inventory.total}` : ''}; no net consumption over the rate window.`;

  const details: AlertDetails = {
    title: exhausted
      ? `CAL pool exhausted: ${series.product} on ${series.licenseServer}`
      : `CAL pool running dry: ${series.product} on ${series.licenseServer}`,
    severity,
    summary,
    licenseServer: series.licenseServer,
    product: series.product,
    since: series.pool.since === null ? null : new Date(series.pool.since).toISOString(),
    cals: Math.max(0, available ?? 0),
    metrics: {
      availableCals: available ?? 'unknown',
      totalCals: inventory?.total ?? 'unknown',
      netCalsPerDay: Math.round(netPerMs * DAY_MS * 10) / 10,
      projectedExhaustionAt: projectedAt,
      horizonMs: p.horizonMs,
    },
    topOffenders: topOf(windowBuckets, 'offenders', settings.topOffenders).map(([name, count]) => ({ name, cals: count })),
    remediation: POOL_REMEDIATION,
    findingId: topOf(windowBuckets, 'findings', 1)[0]?.[0] ?? null,
  };
  return {
    dedupKey: poolDedupKey(series),
    rule: 'pool-exhaustion',
    active: series.pool.active && settings.enabled.has('pool-exhaustion'),
    details,
  };
}

export function formatDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}
