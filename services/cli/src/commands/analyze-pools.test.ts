import { describe, expect, it } from 'vitest';
import { type CanonicalEvent } from '@calwatch/model';
import { KEY_PACK_IDS, simulateFleet } from '@calwatch/simulator';
import { createTimelineKit } from '@calwatch/processor/testing';
import { PoolSeriesBuilder } from './analyze-pools';

describe('PoolSeriesBuilder', () => {
  it("counts the simulated server's permanent CALs in use as its own key pack inventory does, every day", () => {
    const sim = simulateFleet({ devices: 120, days: 40, seed: 3 });
    const builder = new PoolSeriesBuilder();
    let last = '';
    for (const event of sim.events()) {
      builder.add(event);
      last = event.eventTime;
    }
    const [pool, ...others] = builder.finish(last, 7);
    expect(others).toEqual([]);
    expect(pool!.inUseFrom).toBe('license-table');
    expect(pool!.keyPackIds).toEqual([KEY_PACK_IDS.permanent]);
    // The oracle: the simulated server's own count of issued permanent CALs, exported with each snapshot.
    const byDay = new Map(pool!.points.map(([at, inUse, size]) => [at, { inUse, size }]));
    let compared = 0;
    for (const snapshot of sim.snapshots()) {
      const pack = snapshot.keyPacks.find((k) => k.keyPackId === KEY_PACK_IDS.permanent)!;
      expect(byDay.get(snapshot.takenAt), snapshot.takenAt).toEqual({ inUse: pack.issuedLicenses, size: pack.totalLicenses });
      compared++;
    }
    expect(compared).toBeGreaterThan(30);
  });

  it('projects exhaustion from the net growth of the rate window, and dates one that happened', () => {
    const kit = createTimelineKit();
    const builder = new PoolSeriesBuilder();
    builder.add(kit.keyPack({ day: 0, keyPackId: 1, product: 'Windows Server 2022', total: 30, available: 30 }));
    // One new CAL a day for 20 days: 1 a day over the 7-day window, 10 left in a pool of 30.
    for (let day = 0; day < 20; day++) builder.add(kit.issue(day + 1, { hwid: `0x${day}`, computer: `PC${day}`, day: day + 0.5, keyPackId: 1 }));
    const growing = builder.finish(kit.at(20), 7)[0]!;
    expect(growing).toMatchObject({ product: 'Windows Server 2022', installed: 30, inUse: 20 });
    expect(growing.exhaustion).toEqual({ at: kit.at(30), basis: 'projected', perDay: 1 });

    for (let day = 20; day < 30; day++) builder.add(kit.issue(day + 1, { hwid: `0x${day}`, computer: `PC${day}`, day: day + 0.5, keyPackId: 1 }));
    builder.add(kit.returned(1, 32.5));
    builder.add(kit.issue(31, { hwid: '0xff', computer: 'PC31', day: 33.5, keyPackId: 1 }));
    const full = builder.finish(kit.at(35), 7)[0]!;
    expect(full.inUse).toBe(30);
    // Full from day 30, one short at the end of day 32, full again from the end of day 33.
    expect(full.exhaustion).toMatchObject({ basis: 'reached', at: kit.at(34) });
  });

  it('leaves out temporary and built-in packs, moves an upgraded CAL, and stops counting revoked ones', () => {
    const kit = createTimelineKit();
    const builder = new PoolSeriesBuilder();
    builder.add(kit.keyPack({ day: 0, keyPackId: 1, product: 'Windows Server 2019', total: 10, available: 10 }));
    builder.add(kit.keyPack({ day: 0, keyPackId: 2, product: 'Windows Server 2019', total: 0, available: 0, keyPackType: 4, typeAndModel: 'Temporary' }));
    builder.add(kit.issue(1, { hwid: '0x1', computer: 'A', day: 1, status: 'temporary', keyPackId: 2 }));
    builder.add(kit.issue(2, { hwid: '0x2', computer: 'B', day: 1, keyPackId: 1 }));
    expect(builder.finish(kit.at(2), 7)[0]!.inUse).toBe(1);
    // The server moves an upgraded CAL from the temporary pack to the permanent one.
    const upgraded = kit.upgrade(1, 3) as Extract<CanonicalEvent, { type: 'license.upgraded' }>;
    builder.add({ ...upgraded, license: { ...upgraded.license, keyPackId: 1 } });
    expect(builder.finish(kit.at(4), 7)[0]!.inUse).toBe(2);
    builder.add(kit.revoke(2, 5));
    builder.add(kit.returned(2, 6));
    const pools = builder.finish(kit.at(7), 7);
    expect(pools).toHaveLength(1);
    // Each point closes a day (events at midnight close the day before); the last is the as-of time.
    expect(pools[0]!.points).toEqual([
      [kit.at(0), 0, 10],
      [kit.at(1), 1, 10],
      [kit.at(3), 2, 10],
      [kit.at(5), 1, 10],
      [kit.at(7), 1, 10],
    ]);
  });
});
