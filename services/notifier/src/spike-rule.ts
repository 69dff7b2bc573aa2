import type { FindingKind } from '@calwatch/model';
import type { Condition } from './alert-machine';
import { buildDedupKey } from './dedup-key';
import type { AlertDetails } from './notification';
import { remediationFor } from './remediation';
import type { RuleSettings } from './rule-settings';
import { bucketAt, bucketIndex, findBucket, topOf, type SeriesBucket, type SeriesState } from './series';

type SpikeSettings = RuleSettings['spike'];

export interface SpikeThreshold {
  baseline: number;
  threshold: number;
}

/**
 * Rolling baseline of the `baselineIntervals` closed intervals before `idx` (missing ones
 * count as zero, spike intervals are left out so a long spike cannot raise its own bar).
 */
export function spikeThreshold(series: SeriesState, idx: number, settings: SpikeSettings): SpikeThreshold {
  const from = (idx - settings.baselineIntervals) * settings.intervalMs;
  const to = idx * settings.intervalMs;
  let sum = 0;
  let excluded = 0;
  for (const bucket of series.buckets) {
    if (bucket.start < from || bucket.start >= to) continue;
    if (bucket.alerting) excluded++;
    else sum += bucket.issued;
  }
  const counted = settings.baselineIntervals - excluded;
  const baseline = counted > 0 ? sum / counted : 0;
  return { baseline, threshold: Math.max(settings.minCals, Math.ceil(settings.factor * baseline)) };
}

export function spikeDedupKey(series: SeriesState): string {
  return buildDedupKey('leak-rate-spike', series.licenseServer, series.product);
}

export interface TimedCondition {
  condition: Condition;
  /** Event time the condition holds from. */
  at: number;
}

/**
 * Re-evaluates the spike condition of one series at event time `now`: first the intervals
 * that closed since the last look (a spike may have begun and ended between two looks,
 * e.g. while catching up after downtime: each change is reported at the end of its
 * interval), then the current one. Mutates the series. Intervals older than
 * `maxEventAgeMs` against the wall clock (a replay) shape the baseline but never start
 * a spike.
 */
export function evaluateSpike(series: SeriesState, now: number, wallNowMs: number, settings: RuleSettings): TimedCondition[] {
  const s = settings.spike;
  const out: TimedCondition[] = [];
  const conditionAt = (currentIssued: number, idx: number, at: number): TimedCondition => {
    const { baseline, threshold } = spikeThreshold(series, idx, s);
    return {
      at,
      condition: {
        dedupKey: spikeDedupKey(series),
        rule: 'leak-rate-spike',
        active: series.spike.active && settings.enabled.has('leak-rate-spike'),
        details: spikeDetails(series, currentIssued, baseline, threshold, settings),
      },
    };
  };
  const currentIdx = bucketIndex(now, s.intervalMs);
  const fresh = (idx: number): boolean => wallNowMs - (idx + 1) * s.intervalMs <= s.maxEventAgeMs;
  const oldestIdx = series.buckets.length === 0 ? currentIdx : bucketIndex(series.buckets[0]!.start, s.intervalMs);
  const firstUnclosed = series.spike.lastClosedIdx === null ? oldestIdx : series.spike.lastClosedIdx + 1;
  for (let idx = Math.max(firstUnclosed, currentIdx - s.baselineIntervals); idx < currentIdx; idx++) {
    const bucket = findBucket(series, idx * s.intervalMs);
    const issued = bucket?.issued ?? 0;
    const wasActive = series.spike.active;
    if (bucket !== undefined && issued >= spikeThreshold(series, idx, s).threshold && (series.spike.active || fresh(idx))) {
      bucket.alerting = true;
      series.spike.belowCount = 0;
      if (!series.spike.active) {
        series.spike.active = true;
        series.spike.since = bucket.start;
      }
    } else if (series.spike.active) {
      series.spike.belowCount++;
      if (series.spike.belowCount >= s.clearIntervals) series.spike.active = false;
    }
    if (series.spike.active !== wasActive) out.push(conditionAt(issued, idx + 1, Math.min(now, (idx + 1) * s.intervalMs)));
  }
  series.spike.lastClosedIdx = Math.max(series.spike.lastClosedIdx ?? currentIdx - 1, currentIdx - 1);

  const current = findBucket(series, currentIdx * s.intervalMs);
  const { threshold } = spikeThreshold(series, currentIdx, s);
  if (current !== undefined && current.issued >= threshold && (fresh(currentIdx) || series.spike.active)) {
    current.alerting = true;
    series.spike.belowCount = 0;
    if (!series.spike.active) {
      series.spike.active = true;
      series.spike.since = current.start;
    }
  }
  out.push(conditionAt(current?.issued ?? 0, currentIdx, now));
  return out;
}

function spikeDetails(series: SeriesState, currentIssued: number, baseline: number, threshold: number, settings: RuleSettings): AlertDetails {
  const s = settings.spike;
  const since = series.spike.since ?? 0;
  const spikeBuckets = series.buckets.filter((b) => b.alerting && b.start >= since);
  const cals = spikeBuckets.reduce((sum, b) => sum + b.issued, 0);
  const peak = spikeBuckets.reduce((max, b) => Math.max(max, b.issued), 0);
  const minutes = Math.round(s.intervalMs / 60_000);
  const per = minutes >= 1 ? `${minutes} min` : `${Math.round(s.intervalMs / 1000)} s`;
  const severity = peak >= s.criticalFactor * threshold ? 'critical' : s.severity;
  const topFinding = topOf(spikeBuckets, 'findings', 1)[0]?.[0] ?? null;
  const summary = series.spike.active
    ? `${cals} new CALs since the spike began (peak ${peak} per ${per}; baseline ${baseline.toFixed(1)}, threshold ${threshold}); ${currentIssued} in the current interval.`
    : `New CALs are back under the threshold (${threshold} per ${per}); ${cals} were issued during the spike.`;
  return {
    title: `CAL issuance spike on ${series.licenseServer} (${series.product})`,
    severity,
    summary,
    licenseServer: series.licenseServer,
    product: series.product,
    since: series.spike.since === null ? null : new Date(series.spike.since).toISOString(),
    cals,
    metrics: {
      currentIntervalCals: currentIssued,
      peakIntervalCals: peak,
      baselinePerInterval: Math.round(baseline * 100) / 100,
      thresholdPerInterval: threshold,
      intervalMs: s.intervalMs,
    },
    topOffenders: topOf(spikeBuckets, 'offenders', settings.topOffenders).map(([name, count]) => ({ name, cals: count })),
    remediation: remediationFor(dominantClass(spikeBuckets)),
    findingId: topFinding,
  };
}

const KINDS: ReadonlySet<string> = new Set(['cloned-image', 'hwid-churn', 'rebuilt-device', 'duplicate-name', 'corrupted-store', 'pool-exhaustion']);

/** The leak pattern behind most of the spike's CALs; 'healthy' when none is known. */
function dominantClass(buckets: readonly SeriesBucket[]): FindingKind | 'healthy' {
  const ranked = topOf(buckets, 'classes', 10).filter(([name]) => KINDS.has(name));
  return (ranked[0]?.[0] as FindingKind | undefined) ?? 'healthy';
}

/** Counts one license movement into the series' interval of its event time. */
export function bucketFor(series: SeriesState, eventTimeMs: number, settings: RuleSettings): SeriesBucket {
  return bucketAt(series, bucketIndex(eventTimeMs, settings.spike.intervalMs) * settings.spike.intervalMs);
}
