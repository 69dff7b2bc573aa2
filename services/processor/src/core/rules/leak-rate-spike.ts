import type { CoreConfig } from '../config';
import type { DerivedFinding, Evidence, Resolution } from '../finding-track';
import type { DayCounts } from '../pool';
import { plural } from '../text';
import { DAY_MS, toDay } from '../time';

/**
 * Rule `leak-rate-spike`: a product's permanent per-device CALs taken per UTC day (event
 * time) jump well above what the days before took. A pool rarely empties from a standing
 * leak overnight; a new leak (a cloned image rolled out, a VDI pool that lost its
 * MSLicensing key) shows first as a day that takes many times the usual number of CALs.
 */

/** What the rule reads: one product's issuance per day on one server. */
export interface LeakRateSpikeView {
  readonly server: string;
  /** The product as the key packs name it. */
  readonly display: string;
  /** Permanent CALs taken per UTC day ([day index, count], sorted). */
  readonly issues: Readonly<DayCounts>;
  /** The first day the server's issuance of this product was seen (null: none yet). */
  readonly observedSinceDay: number | null;
  readonly clock: number;
}

export type LeakRateSpikeConfig = Pick<CoreConfig, 'spike'>;

/** One day measured against its baseline. */
export interface SpikeDay {
  day: number;
  count: number;
  /** Median of the `baselineDays` days before it (days without issuance count as 0). */
  baseline: number;
  threshold: number;
}

function countOn(issues: Readonly<DayCounts>, day: number): number {
  // Sorted by day and asked about the last few weeks: walk back from the newest day.
  for (let i = issues.length - 1; i >= 0; i--) {
    const d = issues[i]![0];
    if (d === day) return issues[i]![1];
    if (d < day) return 0;
  }
  return 0;
}

/** The median of the first `length` values (sorted in place). */
function median(sorted: Float64Array, length: number): number {
  // A week or two of counts, measured on every permanent issuance: an insertion sort
  // beats Array#sort's comparator calls at this size.
  for (let i = 1; i < length; i++) {
    const v = sorted[i]!;
    let j = i - 1;
    while (j >= 0 && sorted[j]! > v) {
      sorted[j + 1] = sorted[j]!;
      j--;
    }
    sorted[j + 1] = v;
  }
  const mid = length >> 1;
  return length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The counts of the days a baseline is taken from, reused (the core is synchronous): a day is
 * measured against them on every permanent CAL issued. A typed array: an array emptied by
 * `length = 0` lets its storage go and allocates it again on the next push.
 */
let baselineScratch = new Float64Array(16);

/**
 * The median of the `baselineDays` days before `day` (days without issuance count as 0), or
 * NaN when those days were not all observed (the first load of a server's history).
 */
function baselineOf(view: Pick<LeakRateSpikeView, 'issues' | 'observedSinceDay'>, day: number, config: LeakRateSpikeConfig): number {
  const { baselineDays } = config.spike;
  if (view.observedSinceDay === null || view.observedSinceDay > day - baselineDays) return Number.NaN;
  if (baselineScratch.length < baselineDays) baselineScratch = new Float64Array(baselineDays);
  const before = baselineScratch;
  for (let i = 0; i < baselineDays; i++) before[i] = countOn(view.issues, day - baselineDays + i);
  return median(before, baselineDays);
}

/** A median, so a spike of a few days does not raise its own bar; at least `minCals`, so a quiet server does not spike on two CALs. */
function thresholdOf(baseline: number, config: LeakRateSpikeConfig): number {
  return Math.max(config.spike.minCals, Math.ceil(config.spike.factor * baseline));
}

/**
 * The day measured against the median of the days before it. A day whose baseline was not
 * fully observed is never a spike (null).
 */
export function measureDay(view: Pick<LeakRateSpikeView, 'issues' | 'observedSinceDay'>, day: number, config: LeakRateSpikeConfig): SpikeDay | null {
  const baseline = baselineOf(view, day, config);
  if (Number.isNaN(baseline)) return null;
  return { day, count: countOn(view.issues, day), baseline, threshold: thresholdOf(baseline, config) };
}

const NO_SPIKE_DAYS: readonly SpikeDay[] = Object.freeze([]);

/**
 * The spike days still in view (today and the `clearDays` before it), oldest first. Asked on
 * every permanent CAL issued: a day is only measured when its count could reach a threshold
 * (never under `minCals`), and only a spike day is made into an object.
 */
export function spikeDays(view: LeakRateSpikeView, config: LeakRateSpikeConfig): readonly SpikeDay[] {
  const today = Math.floor(view.clock / DAY_MS);
  let days: SpikeDay[] | undefined;
  for (let d = today - config.spike.clearDays; d <= today; d++) {
    const count = countOn(view.issues, d);
    if (count < config.spike.minCals) continue;
    const baseline = baselineOf(view, d, config);
    if (Number.isNaN(baseline)) continue;
    const threshold = thresholdOf(baseline, config);
    if (count >= threshold) (days ??= []).push({ day: d, count, baseline, threshold });
  }
  return days ?? NO_SPIKE_DAYS;
}

/** When an open spike clears unless another day spikes: `clearDays` whole days after the last spike day. */
export function spikeClearsAt(view: LeakRateSpikeView, config: LeakRateSpikeConfig): number | null {
  const last = spikeDays(view, config).at(-1);
  return last === undefined ? null : (last.day + 1 + config.spike.clearDays) * DAY_MS;
}

export function deriveLeakRateSpike(view: LeakRateSpikeView, config: LeakRateSpikeConfig): DerivedFinding | null {
  const days = spikeDays(view, config);
  if (days.length === 0) return null;
  const first = days[0]!;
  const last = days.at(-1)!;
  const peak = days.reduce((worst, d) => (d.count / d.threshold > worst.count / worst.threshold ? d : worst), first);
  const { server, display, clock } = view;
  const cals = days.reduce((sum, d) => sum + d.count, 0);
  const lastSeen = Math.min(clock, (last.day + 1) * DAY_MS - 1);
  return {
    severity: peak.count >= config.spike.criticalFactor * peak.threshold ? 'critical' : 'high',
    hwids: [],
    computers: [],
    licenseIds: [],
    keyPackIds: [],
    candidates: [],
    firstSeen: first.day * DAY_MS,
    lastSeen,
    describe() {
      return {
        summary:
          `${plural(cals, `new ${display} per-device CAL`)} on ${server} since ${toDay(first.day * DAY_MS)}: ` +
          `${peak.count} on ${toDay(peak.day * DAY_MS)} against a median of ${round1(peak.baseline)} per day over the ${config.spike.baselineDays} days before (threshold ${peak.threshold})`,
        remediation:
          `Find what took the CALs on ${server}: the open leak findings (a cloned image, HardwareID churn) show which devices; ` +
          'otherwise a new deployment or a collection whose clients generate new HardwareIDs. Fix the cause before the pool runs out, then revoke what leaked per the revoke plan.',
      };
    },
    history(): Evidence[] {
      return days.map((d) => ({
        at: Math.min(clock, (d.day + 1) * DAY_MS - 1),
        eventId: `spike:${toDay(d.day * DAY_MS)}`,
        note: `${d.count} new CALs on ${toDay(d.day * DAY_MS)} (threshold ${d.threshold})`,
      }));
    },
  };
}

export function resolveLeakRateSpike({ server, display }: LeakRateSpikeView, config: LeakRateSpikeConfig): Resolution {
  return {
    summary: `New ${display} per-device CALs on ${server} are back under the threshold (${plural(config.spike.clearDays, 'whole day')} without a spike)`,
    remediation: 'Nothing to do for the rate; leaked CALs stay in their own findings until reclaimed.',
    note: 'resolved: issuance back under the threshold',
  };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
