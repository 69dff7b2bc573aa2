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

function median(values: number[]): number {
  // A week or two of counts, measured on every permanent issuance: an insertion sort
  // beats Array#sort's comparator calls at this size.
  const sorted = values;
  for (let i = 1; i < sorted.length; i++) {
    const v = sorted[i]!;
    let j = i - 1;
    while (j >= 0 && sorted[j]! > v) {
      sorted[j + 1] = sorted[j]!;
      j--;
    }
    sorted[j + 1] = v;
  }
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The counts of the days a baseline is taken from, reused (the core is synchronous): a day is
 * measured against them on every permanent CAL issued, for each day of the spike window.
 */
const baselineScratch: number[] = [];

/**
 * The day measured against the median of the days before it: a median, so a spike of a
 * few days does not raise its own bar, and a bar of at least `minCals` so a quiet server
 * does not spike on two CALs. A day whose baseline was not fully observed (the first load
 * of a server's history) is never a spike.
 */
export function measureDay(view: Pick<LeakRateSpikeView, 'issues' | 'observedSinceDay'>, day: number, config: LeakRateSpikeConfig): SpikeDay | null {
  const { baselineDays, factor, minCals } = config.spike;
  if (view.observedSinceDay === null || view.observedSinceDay > day - baselineDays) return null;
  const before = baselineScratch;
  before.length = 0;
  for (let d = day - baselineDays; d < day; d++) before.push(countOn(view.issues, d));
  const baseline = median(before);
  return { day, count: countOn(view.issues, day), baseline, threshold: Math.max(minCals, Math.ceil(factor * baseline)) };
}

const NO_SPIKE_DAYS: readonly SpikeDay[] = Object.freeze([]);

/** The spike days still in view (today and the `clearDays` before it), oldest first. */
export function spikeDays(view: LeakRateSpikeView, config: LeakRateSpikeConfig): readonly SpikeDay[] {
  const today = Math.floor(view.clock / DAY_MS);
  let days: SpikeDay[] | undefined;
  for (let d = today - config.spike.clearDays; d <= today; d++) {
    const measured = measureDay(view, d, config);
    if (measured !== null && measured.count >= measured.threshold) (days ??= []).push(measured);
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
