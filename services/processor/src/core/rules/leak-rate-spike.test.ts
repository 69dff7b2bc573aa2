import { describe, expect, it } from 'vitest';
import { parseCoreConfig } from '../config';
import type { DayCounts } from '../pool';
import { DAY_MS } from '../time';
import { type LeakRateSpikeView, deriveLeakRateSpike, measureDay, resolveLeakRateSpike, spikeClearsAt } from './leak-rate-spike';
import { day } from '../../testing/rule-kit';

const config = parseCoreConfig({});
const dayIndex = (n: number): number => Math.floor(day(n) / DAY_MS);

/** Counts per day offset from the rule kit's start. */
function counts(byDay: Record<number, number>): DayCounts {
  return Object.entries(byDay)
    .map(([d, n]): [number, number] => [dayIndex(Number(d)), n])
    .sort((a, b) => a[0] - b[0]);
}

const view = (o: Partial<LeakRateSpikeView> & { byDay: Record<number, number> }): LeakRateSpikeView => ({
  server: 'LS01',
  display: 'Windows Server 2022',
  issues: counts(o.byDay),
  observedSinceDay: dayIndex(0),
  clock: day(10.5),
  ...o,
});

const steady = { 3: 2, 4: 3, 5: 2, 6: 1, 7: 2, 8: 2, 9: 4 };

describe('leak-rate-spike rule', () => {
  it('fires when the day reaches the factor times the median of the week before and the minimum', () => {
    expect(measureDay(view({ byDay: { ...steady, 10: 12 } }), dayIndex(10), config)).toEqual({ day: dayIndex(10), count: 12, baseline: 2, threshold: 10 });
    const derived = deriveLeakRateSpike(view({ byDay: { ...steady, 10: 12 } }), config);
    expect(derived?.severity).toBe('high');
    expect(derived?.firstSeen).toBe(day(10));
    expect(derived?.candidates).toEqual([]);
    expect(derived?.describe().summary).toBe(
      '12 new Windows Server 2022 per-device CALs on LS01 since 2024-01-11: 12 on 2024-01-11 against a median of 2 per day over the 7 days before (threshold 10)',
    );
  });

  it('does not fire under the minimum, however quiet the week before', () => {
    expect(deriveLeakRateSpike(view({ byDay: { 10: 9 } }), config)).toBeNull();
    expect(deriveLeakRateSpike(view({ byDay: { 10: 10 } }), config)).not.toBeNull();
  });

  it('is critical at the critical factor times the threshold', () => {
    expect(deriveLeakRateSpike(view({ byDay: { ...steady, 10: 30 } }), config)?.severity).toBe('critical');
    expect(deriveLeakRateSpike(view({ byDay: { ...steady, 10: 29 } }), config)?.severity).toBe('high');
  });

  it('never fires before a whole baseline was observed: a first load is history, not a spike', () => {
    expect(deriveLeakRateSpike(view({ byDay: { 10: 500 }, observedSinceDay: dayIndex(4) }), config)).toBeNull();
    expect(deriveLeakRateSpike(view({ byDay: { 10: 500 }, observedSinceDay: dayIndex(3) }), config)).not.toBeNull();
    expect(deriveLeakRateSpike(view({ byDay: { 10: 500 }, observedSinceDay: null }), config)).toBeNull();
  });

  it('a spike does not raise its own bar: the median ignores a few spike days', () => {
    // Days 8, 9 and 10 spiked; days 4..10 hold 3, 2, 1, 2, 40, 40, 40: the median is 3 (a
    // mean would be 18 and put the bar at 55), so day 11 at 40 is still a spike.
    const v = view({ byDay: { ...steady, 8: 40, 9: 40, 10: 40, 11: 40 }, clock: day(11.5) });
    expect(measureDay(v, dayIndex(11), config)).toMatchObject({ baseline: 3, threshold: 10, count: 40 });
  });

  it('holds through the next whole day, then clears', () => {
    const spiking = { byDay: { ...steady, 10: 12 } };
    expect(deriveLeakRateSpike(view({ ...spiking, clock: day(11.9) }), config)).not.toBeNull();
    expect(spikeClearsAt(view({ ...spiking, clock: day(11.9) }), config)).toBe(day(12));
    expect(deriveLeakRateSpike(view({ ...spiking, clock: day(12) }), config)).toBeNull();
    expect(resolveLeakRateSpike(view(spiking), config).note).toBe('resolved: issuance back under the threshold');
  });
});
