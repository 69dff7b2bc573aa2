import { describe, expect, it } from 'vitest';
import type { CanonicalEvent, Finding } from '@calwatch/model';
import { type CoreConfigInput, parseCoreConfig } from './config';
import { createPipeline, decodePipelineSnapshot } from './pipeline';
import * as scenarios from '../testing/scenarios';
import { byEventTime, createSeededRandom, createTimelineKit, verdictOf } from '../testing/timeline-kit';

/** Replays a timeline in event-time order (as `analyze` does) up to `asOf`. */
/** A published revoke batch: all test scenarios issue Windows Server 2019 CALs. */
function batch(notBefore: string, licenseIds: number[], product: string | null = 'Windows Server 2019') {
  return { notBefore, count: licenseIds.length, product, licenseIds };
}

function replay(events: readonly CanonicalEvent[], asOf: string, overrides: CoreConfigInput = {}) {
  return replayAsGiven(byEventTime(events), asOf, overrides);
}

/** Replays events in the order given (arrival order). */
function replayAsGiven(events: readonly CanonicalEvent[], asOf: string, overrides: CoreConfigInput = {}) {
  const updates: Finding[] = [];
  const pipeline = createPipeline(parseCoreConfig(overrides), { onFinding: (f) => updates.push(f) });
  for (const event of events) expect(pipeline.apply(event).status).toBe('accepted');
  pipeline.advanceTo(asOf);
  pipeline.flush();
  return { pipeline, findings: pipeline.findings(), updates };
}

describe('a cloned image reissued 1,200 times', () => {
  // Four clones of one image take turns; every switch makes the server issue another CAL.
  const kit = createTimelineKit({ server: 'LS-BIG' });
  const events: CanonicalEvent[] = [kit.keyPack({ day: 0, keyPackId: 1, total: 5000, available: 3000 })];
  for (let i = 0; i < 1200; i++) events.push(kit.issue(i + 1, { hwid: 'bb01', computer: `PC-${i % 4}`, day: i / 40 }));

  it('holds back updates that only grow the reclaimable CALs, and ends exactly where sending every change ends', () => {
    const held = replay(events, kit.at(31));
    const every = replay(events, kit.at(31), { emit: { candidateGrowth: 0 } });
    // Fewer updates: other revision numbers and update times. A batch already due reads the
    // same whenever it was planned ("revoke now").
    const asOf = kit.at(31);
    const withoutRevision = (f: Finding) => ({
      ...f,
      revision: 0,
      updatedAt: '',
      revokePlan: f.revokePlan.map((b) => ({ ...b, notBefore: b.notBefore <= asOf ? 'due' : b.notBefore })),
    });
    expect(held.findings.map(withoutRevision)).toEqual(every.findings.map(withoutRevision));
    // The chain keeps its newest 500 licenses (state.maxLicensesPerKey).
    expect(held.findings[0]!.leakedCals).toBeGreaterThan(400);
    expect(every.updates.length).toBeGreaterThan(1000);
    expect(held.updates.length).toBeLessThan(every.updates.length / 5);
  });

  it('without a flush, what was held back goes out a refresh period after the first held change', () => {
    const updates: Finding[] = [];
    const pipeline = createPipeline(parseCoreConfig({}), { onFinding: (f) => updates.push(f) });
    for (const event of byEventTime(events)) pipeline.apply(event);
    // The last reissue is on day 29.975: a day later the stream has sent the exact list.
    pipeline.advanceTo(kit.at(31));
    const live = updates.at(-1)!;
    expect(Date.parse(live.updatedAt)).toBeGreaterThan(Date.parse(kit.at(29.975)));
    pipeline.flush();
    const flushed = updates.at(-1)!;
    expect([live.leakedCals, live.reclaimableLicenseIds, live.revokePlan]).toEqual([flushed.leakedCals, flushed.reclaimableLicenseIds, flushed.revokePlan]);
  });

  it('a CAL revoked mid-episode leaves the revoke plan at once, though the list it came from is held back', () => {
    const revokedAt = 20;
    // No daily refresh: only the plan can drop the CAL before the list changes by a tenth.
    const quiet = { emit: { refreshDays: 30 } };
    const before = replay(events, kit.at(revokedAt), quiet).updates.filter((u) => u.updatedAt < kit.at(revokedAt)).at(-1)!;
    const planned = before.revokePlan[0]!.licenseIds[0]!;
    const { updates, findings } = replay([...events, kit.revoke(planned, revokedAt)], kit.at(31), quiet);
    const after = updates.filter((u) => u.updatedAt >= kit.at(revokedAt));
    expect(after.length).toBeGreaterThan(0);
    for (const u of after) expect(u.revokePlan.flatMap((b) => b.licenseIds)).not.toContain(planned);
    expect(findings[0]!.reclaimableLicenseIds).not.toContain(planned);
  });
});

describe('cloned image (A/B/A ping-pong)', () => {
  const { kit, events } = scenarios.clonedImage();

  it('opens one finding counting reissues and the CALs beyond one per device', () => {
    const { findings, updates } = replay(events, kit.at(4));
    expect(findings.map(verdictOf)).toEqual([
      {
        kind: 'cloned-image',
        state: 'open',
        severity: 'low',
        hwids: ['aa01'],
        computers: ['PC-A', 'PC-B'],
        licenseIds: [1, 2, 3, 4],
        leakedCals: 2,
        reclaimableLicenseIds: [1, 2],
        revokePlan: [batch(kit.at(3), [1, 2])],
      },
    ]);
    const [finding] = findings;
    expect(finding!.licenseServer).toBe('LS-CLONE');
    expect(finding!.productVersion).toBe('Windows Server 2019');
    expect(finding!.summary).toContain('3 reissues');
    expect(finding!.summary).toContain('2 CALs held beyond one per device');
    expect(finding!.remediation).toContain('HKLM\\SOFTWARE\\Microsoft\\MSLicensing');
    expect(finding!.remediation).toContain('sysprep');
    expect(finding!.firstSeen).toBe(kit.at(0));
    expect(finding!.lastSeen).toBe(kit.at(3));
    // Opened on the second name switch (day 2), updated on the third.
    expect(updates.map((u) => [u.revision, u.updatedAt, u.leakedCals])).toEqual([
      [1, kit.at(2), 1],
      [2, kit.at(3), 2],
    ]);
    expect(finding!.timeline.map((t) => t.note)).toEqual([
      'CAL 1 (active) issued to PC-A',
      'CAL 2 (active) issued to PC-B',
      'CAL 3 (active) issued to PC-A',
      'CAL 4 (active) issued to PC-B after PC-A had CAL 3',
    ]);
  });

  it('stays open once the reissues stopped (cause stopped), with its revoke plan, while the leaked CALs are valid', () => {
    const { findings } = replay(events, kit.at(20));
    expect(findings).toHaveLength(1);
    const [finding] = findings;
    expect(finding!.state).toBe('open');
    expect(finding!.status).toBe('cause-stopped');
    expect(finding!.updatedAt).toBe(kit.at(17));
    expect(finding!.leakedCals).toBe(2);
    expect(finding!.reclaimableLicenseIds).toEqual([1, 2]);
    expect(finding!.revokePlan.map((b) => b.licenseIds)).toEqual([[1, 2]]);
    expect(finding!.summary).toContain('cause stopped');
  });

  it('resolves once the leaked CALs are no longer valid', () => {
    const { findings, updates } = replay(events, kit.at(90));
    const [finding] = findings;
    expect(finding!.state).toBe('resolved');
    expect(finding!.status).toBeUndefined();
    expect(finding!.leakedCals).toBe(0);
    expect(finding!.revokePlan).toEqual([]);
    expect(finding!.summary).toContain('stopped being reissued');
    const phases = updates.map((u) => u.state + (u.status === undefined ? '' : `/${u.status}`));
    expect(phases.filter((p, i) => p !== phases[i - 1])).toEqual(['open', 'open/cause-stopped', 'resolved']);
  });

  it('does not fire on a single rename (one switch)', () => {
    const { findings } = replay(events.slice(0, 3), kit.at(10));
    expect(findings).toEqual([]);
  });
});

describe('hwid churn (non-persistent VDI)', () => {
  const { kit, events } = scenarios.vdiChurn();

  it('opens once the third HWID appears and never reports the earlier ones as rebuilds', () => {
    const { findings, updates } = replay(events, kit.at(5));
    expect(findings.map(verdictOf)).toEqual([
      {
        kind: 'hwid-churn',
        state: 'open',
        severity: 'high',
        hwids: ['b001', 'b002', 'b003', 'b004', 'b005'],
        computers: ['PC-VDI01'],
        licenseIds: [100, 101, 102, 103, 104],
        leakedCals: 4,
        reclaimableLicenseIds: [100, 101, 102, 103],
        revokePlan: [batch(kit.at(4), [100, 101, 102, 103])],
      },
    ]);
    expect(updates.every((u) => u.kind === 'hwid-churn')).toBe(true);
    expect(updates.map((u) => [u.updatedAt, u.leakedCals, u.severity])).toEqual([
      [kit.at(2), 2, 'low'],
      [kit.at(3), 3, 'medium'],
      [kit.at(4), 4, 'high'],
    ]);
    expect(findings[0]!.remediation).toContain('non-persistent VDI');
  });

  it('stays open, cause stopped, when no new HWID appeared for the quiet period, until the leaked CALs are no longer valid', () => {
    const quiet = replay(events, kit.at(30)).findings;
    expect(quiet.map((f) => [f.kind, f.state, f.status, f.updatedAt])).toEqual([['hwid-churn', 'open', 'cause-stopped', kit.at(25)]]);
    expect(quiet[0]!.leakedCals).toBeGreaterThan(0);
    const later = replay(events, kit.at(120)).findings;
    expect(later.map((f) => [f.kind, f.state, f.leakedCals])).toEqual([['hwid-churn', 'resolved', 0]]);
  });

  it('counts and plans the CALs of older HWIDs the name dropped at its cap, until they expire or are revoked', () => {
    const capped = { state: { maxHwidsPerComputer: 3 } };
    const verdict = (f: Finding) => [f.state, f.severity, f.leakedCals, f.reclaimableLicenseIds, f.revokePlan, f.licenseIds];
    const full = replay(events, kit.at(5)).findings[0]!;
    const open = replay(events, kit.at(5), capped).findings[0]!;
    // Three HWIDs kept in full; the CALs of the two dropped still counted, listed and planned.
    expect(open.hwidCount).toBe(3);
    expect(open.leakedCals).toBe(4);
    expect(verdict(open)).toEqual(verdict(full));
    expect(open.summary).toContain('(3 kept in full, and the 2 valid CALs of older ones); 4 CALs held beyond the one in use');
    expect(open.summary).not.toContain('not counted');
    const dropped = (run: ReturnType<typeof replay>) =>
      Object.values(run.pipeline.snapshot().byComputer).map((state) => state.dropped?.map((d) => d.cal.licenseId));
    expect(dropped(replay(events, kit.at(5), capped))).toEqual([[100, 101]]);

    // A dropped CAL revoked: seen again, it leaves the count as it would have without the cap
    // (and, holding no CAL, is dropped again for good: the license list no longer names it).
    const revoked = [...events, kit.revoke(100, 6)];
    const reclaim = (f: Finding) => verdict(f).slice(0, -1);
    expect(reclaim(replay(revoked, kit.at(7), capped).findings[0]!)).toEqual(reclaim(replay(revoked, kit.at(7)).findings[0]!));
    expect(replay(revoked, kit.at(7), capped).findings[0]!.reclaimableLicenseIds).toEqual([101, 102, 103]);

    // Expired: resolved when the uncapped run resolves, the dropped CALs gone from the state.
    const later = replay(events, kit.at(120), capped);
    const laterFull = replay(events, kit.at(120));
    // (The capped name sends one more update, when its list of HWIDs shrinks to the cap.)
    const counts = (run: ReturnType<typeof replay>) =>
      run.updates.filter((u, i, all) => i === 0 || u.leakedCals !== all[i - 1]!.leakedCals || u.state !== all[i - 1]!.state).map((u) => [u.state, u.updatedAt, u.leakedCals]);
    expect(counts(later)).toEqual(counts(laterFull));
    expect(counts(later).at(-1)).toEqual(['resolved', kit.at(63), 0]);
    expect(dropped(later)).toEqual([undefined]);

    // Past the bound on kept CALs, the rest is said, not counted, until it can all have expired.
    const bounded = replay(events, kit.at(5), { state: { maxHwidsPerComputer: 3, maxDroppedCalsPerComputer: 1 } }).findings[0]!;
    expect(bounded.leakedCals).toBe(3);
    expect(bounded.reclaimableLicenseIds).toEqual([101, 102, 103]);
    expect(bounded.summary).toContain('(not counted: 1 more CAL of older HWIDs dropped');
    const again = [0, 1, 2].map((i) => kit.issue(900 + i, { hwid: `c00${i}`, computer: 'PC-VDI01', day: 100 + i }));
    const boundedLater = replay([...events, ...again], kit.at(103), { state: { maxHwidsPerComputer: 3, maxDroppedCalsPerComputer: 1 } });
    const churn = boundedLater.findings.find((f) => f.kind === 'hwid-churn' && f.state === 'open')!;
    expect(churn.hwids).toEqual(['c000', 'c001', 'c002']);
    expect(churn.summary).not.toContain('not counted');
  });

  it('takes its threshold from config', () => {
    const { findings } = replay(events, kit.at(8), { churn: { minHwids: 6 } });
    // Below the churn threshold the earlier HWIDs look like a rebuild of the desktop, once
    // the newest (day 4) has stayed the newest for the confirmation period (3 days).
    expect(findings.map((f) => [f.kind, f.state])).toEqual([['rebuilt-device', 'open']]);
    expect(findings[0]!.reclaimableLicenseIds).toEqual([100, 101, 102, 103]);
  });
});

describe('rebuilt device', () => {
  const { kit, events } = scenarios.rebuiltDevice();

  it('opens when the new HWID is confirmed, with the orphaned CAL to revoke', () => {
    const { findings } = replay(events.slice(0, 3), kit.at(30));
    expect(findings.map(verdictOf)).toEqual([
      {
        kind: 'rebuilt-device',
        state: 'open',
        severity: 'low',
        hwids: ['c001', 'c002'],
        computers: ['PC-R'],
        licenseIds: [10, 11],
        leakedCals: 1,
        reclaimableLicenseIds: [10],
        revokePlan: [batch(kit.at(23), [10])],
      },
    ]);
    expect(findings[0]!.summary).toBe('PC-R now presents HWID c002 on LS-REBUILD; 1 CAL of its old HWID c001 (10) orphaned until 2024-03-01');
  });

  it('resolves when the orphaned CAL expires', () => {
    const { findings, updates } = replay(events, kit.at(100));
    expect(updates.map((u) => [u.kind, u.state, u.updatedAt, u.revision])).toEqual([
      ['rebuilt-device', 'open', kit.at(23), 1],
      ['rebuilt-device', 'resolved', kit.at(60), 2],
    ]);
    expect(findings.map((f) => [f.kind, f.state, f.leakedCals])).toEqual([['rebuilt-device', 'resolved', 0]]);
  });

  it('resolves when the orphaned CAL is revoked', () => {
    const revoke = scenarios.rebuiltDevice().kit;
    const timeline = [...scenarios.rebuiltDevice().events.slice(0, 3)];
    // Same facts, replayed through a fresh kit so the revoke carries CAL 10's facts.
    revoke.issue(10, { hwid: 'c001', computer: 'PC-R', day: 0 });
    timeline.push(revoke.revoke(10, 25));
    const { findings } = replay(timeline, kit.at(30));
    expect(findings.map((f) => [f.kind, f.state, f.updatedAt])).toEqual([['rebuilt-device', 'resolved', kit.at(25)]]);
  });
});

describe('duplicate name (two live devices)', () => {
  const { kit, events } = scenarios.duplicateName();

  it('is an info finding with nothing leaked and is never reported as a rebuild', () => {
    const { findings, updates } = replay(events, kit.at(100));
    expect(findings.map(verdictOf)).toEqual([
      {
        kind: 'duplicate-name',
        state: 'open',
        severity: 'info',
        hwids: ['d001', 'd002'],
        computers: ['PC-D'],
        licenseIds: [20, 21],
        leakedCals: 0,
        reclaimableLicenseIds: [],
        revokePlan: [],
      },
    ]);
    expect(updates.some((u) => u.kind === 'rebuilt-device')).toBe(false);
    expect(findings[0]!.summary).toContain('not a leak');
  });
});

describe('corrupted client store', () => {
  const { kit, events } = scenarios.corruptedStore();

  it('explains the two HWIDs and counts the CAL beyond the one in use', () => {
    const { findings, updates } = replay(events, kit.at(3));
    expect(findings.map(verdictOf)).toEqual([
      {
        kind: 'corrupted-store',
        state: 'open',
        severity: 'low',
        hwids: ['c0c0', 'c0c1'],
        computers: ['PC-C'],
        licenseIds: [70, 71],
        leakedCals: 1,
        reclaimableLicenseIds: [70],
        revokePlan: [batch(kit.at(2), [70])],
      },
    ]);
    expect(updates.map((u) => u.kind)).toEqual(['corrupted-store']);
  });
});

describe('pool exhaustion', () => {
  const { kit, events } = scenarios.exhaustedPool();

  it('is critical with the inventory at 0, event 21 and temporaries issued', () => {
    const { findings, updates } = replay(events, kit.at(4));
    expect(findings).toHaveLength(1);
    const [finding] = findings;
    expect(finding!.kind).toBe('pool-exhaustion');
    expect(finding!.state).toBe('open');
    expect(finding!.severity).toBe('critical');
    expect(finding!.productVersion).toBe('Windows Server 2019');
    expect(finding!.leakedCals).toBe(0);
    expect(finding!.summary).toBe(
      'Windows Server 2019 per-device CALs on LS-POOL: 0 of 10 available; event 21 (no permanent CALs left) on 2024-01-02; ' +
        '2 temporary CALs issued while the pool was empty',
    );
    expect(updates.map((u) => [u.updatedAt, u.severity])).toEqual([
      [kit.at(0), 'high'],
      [kit.at(1), 'high'],
      [kit.at(2), 'critical'],
      [kit.at(3), 'critical'],
    ]);
  });

  it('resolves when a newer inventory shows room again', () => {
    const more = kit.keyPack({ day: 5, keyPackId: 1, total: 30, available: 20 });
    const { findings } = replay([...events, more], kit.at(6));
    expect(findings.map((f) => [f.kind, f.state, f.updatedAt])).toEqual([['pool-exhaustion', 'resolved', kit.at(5)]]);
  });

  it('opens on event 20 alone and ages it out after the TTL', () => {
    const low = scenarios.exhaustedPool('LS-LOW').kit;
    const timeline = [low.service({ day: 1, code: 20, meaning: 'pool-low', remaining: 3 })];
    const open = replay(timeline, low.at(2)).findings;
    expect(open.map((f) => [f.kind, f.state, f.severity])).toEqual([['pool-exhaustion', 'open', 'medium']]);
    const aged = replay(timeline, low.at(10)).findings;
    expect(aged.map((f) => [f.state, f.updatedAt])).toEqual([['resolved', low.at(8)]]);
  });
});

describe('revoke plan across a server', () => {
  const { kit, events } = scenarios.cappedRevocations();

  it('respects the 20% cap per version, counting revoked CALs until their original expiry', () => {
    const { findings } = replay(events, kit.at(7));
    expect(findings).toHaveLength(2);
    const [churn, pool] = findings as [Finding, Finding];
    // Five new CALs in a week against five available: the pool runs out within the horizon.
    expect(pool).toMatchObject({ kind: 'pool-exhaustion', state: 'open', severity: 'medium', leakedCals: 0, revokePlan: [] });
    expect(pool.summary).toBe('Windows Server 2019 per-device CALs on LS-CAP: about 7 days left at 0.7 new CALs per day');
    expect(pool.remediation).toContain('Reclaim leaked CALs first: 4 CALs reclaimable across 1 leak finding on LS-CAP');
    expect([churn].map(verdictOf)).toEqual([
      {
        kind: 'hwid-churn',
        state: 'open',
        severity: 'high',
        hwids: ['f101', 'f102', 'f103', 'f104', 'f105'],
        computers: ['PC-W'],
        licenseIds: [60, 61, 62, 63, 64],
        leakedCals: 4,
        reclaimableLicenseIds: [60, 61, 62, 63],
        // cap = max(1, floor(0.2 * 10)) = 2; CAL 90 (revoked day 1) holds a slot until day 30.
        revokePlan: [
          batch(kit.at(6), [61]),
          batch(kit.at(30), [63]),
          batch(kit.at(58), [60]),
          batch(kit.at(65), [62]),
        ],
      },
    ]);
  });

  it('waits for the date of event 81 when the server refused a revocation', () => {
    const refusal = kit.service({ day: 6.5, code: 81, meaning: 'revocation-limit-reached', revokedCount: 2, installedCount: 10, nextRevokeAllowedDay: 20 });
    const { findings } = replay([...events, refusal], kit.at(7));
    expect(findings[0]!.kind).toBe('hwid-churn');
    expect(findings[0]!.revokePlan).toEqual([
      batch(kit.at(20), [61]),
      batch(kit.at(30), [63]),
      batch(kit.at(58), [60]),
      batch(kit.at(65), [62]),
    ]);
  });
});

describe('revoke plan between rebuilds of the plan', () => {
  it('plans a new finding at once while quota is free, and otherwise at the next rebuild', () => {
    const kit = createTimelineKit({ server: 'LS-PLAN' });
    const minutes = (n: number) => n / (24 * 60);
    const events = [
      // 5 installed: one revocation at a time.
      kit.keyPack({ day: 0, keyPackId: 1, total: 5, available: 1 }),
      kit.issue(1, { hwid: '0b01', computer: 'PC-X', day: 0 }),
      kit.issue(3, { hwid: '0b03', computer: 'PC-Y', day: 0, validDays: 80 }),
      kit.issue(2, { hwid: '0b02', computer: 'PC-X', day: 10 }),
      kit.issue(4, { hwid: '0b04', computer: 'PC-Y', day: 10 + minutes(10) }),
    ];
    const { updates } = replay(events, kit.at(14));
    const plans = updates.filter((u) => u.kind === 'rebuilt-device').map((u) => [u.computers[0], u.updatedAt, u.revokePlan]);
    expect(plans).toEqual([
      ['PC-X', kit.at(13), [batch(kit.at(13), [1])]],
      // The slot is taken: PC-Y waits for the next plan (an hour after the last one), which
      // schedules CAL 3 when CAL 1, revoked first, reaches its original expiry (day 60).
      ['PC-Y', kit.at(13 + minutes(10)), []],
      ['PC-Y', kit.at(13 + minutes(60)), [batch(kit.at(60), [3])]],
    ]);
  });

  it('gives a finding that opens between plans a batch now when the last plan left quota free', () => {
    const kit = createTimelineKit({ server: 'LS-PLAN2' });
    const minutes = (n: number) => n / (24 * 60);
    const events = [
      kit.keyPack({ day: 0, keyPackId: 1, total: 100, available: 50 }),
      kit.issue(1, { hwid: '0b01', computer: 'PC-X', day: 0 }),
      kit.issue(3, { hwid: '0b03', computer: 'PC-Y', day: 0 }),
      kit.issue(2, { hwid: '0b02', computer: 'PC-X', day: 10 }),
      kit.issue(4, { hwid: '0b04', computer: 'PC-Y', day: 10 + minutes(10) }),
    ];
    const { updates } = replay(events, kit.at(14));
    expect(updates.filter((u) => u.kind === 'rebuilt-device').map((u) => [u.computers[0], u.revokePlan])).toEqual([
      ['PC-X', [batch(kit.at(13), [1])]],
      ['PC-Y', [batch(kit.at(13 + minutes(10)), [3])]],
    ]);
  });
});

describe('what is reclaimable', () => {
  it('is never a temporary and never the newest CAL of the device', () => {
    const kit = createTimelineKit({ server: 'LS-TEMP' });
    const events = [
      kit.issue(1, { hwid: '0c01', computer: 'VDI-T', day: 0, status: 'temporary' }),
      kit.issue(2, { hwid: '0c02', computer: 'VDI-T', day: 1 }),
      kit.issue(3, { hwid: '0c03', computer: 'VDI-T', day: 2 }),
      kit.issue(4, { hwid: '0c04', computer: 'VDI-T', day: 3, status: 'temporary' }),
    ];
    const { findings } = replay(events, kit.at(4));
    expect(findings.map((f) => [f.kind, f.licenseIds, f.leakedCals, f.reclaimableLicenseIds])).toEqual([
      // The device now uses temporary CAL 4; permanent CALs 2 and 3 are held for nothing.
      ['hwid-churn', [1, 2, 3, 4], 2, [2, 3]],
    ]);
  });
});

describe('healthy fleet', () => {
  it('renewing devices with their own HWIDs produce no finding', () => {
    const { kit, events } = scenarios.healthyFleet();
    expect(events.length).toBeGreaterThan(60);
    const { findings, updates } = replay(events, kit.at(200));
    expect(findings).toEqual([]);
    expect(updates).toEqual([]);
  });
});

describe('determinism', () => {
  const all = () => [
    ...scenarios.clonedImage().events,
    ...scenarios.vdiChurn().events,
    ...scenarios.rebuiltDevice().events,
    ...scenarios.duplicateName().events,
    ...scenarios.exhaustedPool().events,
    ...scenarios.cappedRevocations().events,
    ...scenarios.corruptedStore().events,
    ...scenarios.healthyFleet().events,
  ];
  const asOf = '2024-04-01T00:00:00.000Z';
  const latenessMs = 2 * 86_400_000;

  it('gives identical output for the same input twice', () => {
    const first = replay(byEventTime(all()), asOf);
    const second = replay(byEventTime(all()), asOf);
    expect(second.updates).toEqual(first.updates);
    expect(second.findings).toEqual(first.findings);
    expect(first.findings.map((f) => f.kind).sort()).toEqual([
      'cloned-image',
      'corrupted-store',
      'duplicate-name',
      'hwid-churn',
      'hwid-churn',
      'pool-exhaustion',
      'pool-exhaustion',
      'rebuilt-device',
    ]);
  });

  it('gives the same findings for input shuffled within the allowed lateness', () => {
    const config = { lateness: { allowedLatenessMs: latenessMs } };
    const ordered = replay(byEventTime(all()), asOf, config);
    for (const seed of [1, 2, 3]) {
      const random = createSeededRandom(seed);
      // Each event is delayed by less than the lateness: it is never too late, but the
      // arrival order differs from event-time order wherever events are that close.
      const shuffled = all()
        .map((event) => ({ event, arrival: Date.parse(event.eventTime) + random() * (latenessMs - 1) }))
        .sort((a, b) => a.arrival - b.arrival)
        .map((x) => x.event);
      expect(shuffled).not.toEqual(byEventTime(all()));
      const result = replayAsGiven(shuffled, asOf, config);
      expect(result.findings).toEqual(ordered.findings);
      expect(result.updates).toEqual(ordered.updates);
    }
  });

  it('drops copies of an event re-sent within the allowed lateness, whatever arrived in between', () => {
    const config = { lateness: { allowedLatenessMs: latenessMs } };
    const ordered = replay(byEventTime(all()), asOf, config);
    const random = createSeededRandom(9);
    const events = byEventTime(all());
    // About a third of the events again, each a little later than its first copy (never too late).
    const arrivals = events.map((event) => ({ event, arrival: Date.parse(event.eventTime) }));
    for (const event of events) if (random() < 0.34) arrivals.push({ event: structuredClone(event), arrival: Date.parse(event.eventTime) + random() * (latenessMs - 1) });
    // Counted as they leave the buffer: copies of events still waiting at the end are not.
    const newest = Math.max(...events.map((e) => Date.parse(e.eventTime)));
    const released = (e: CanonicalEvent) => Date.parse(e.eventTime) <= Date.parse(asOf) || Date.parse(e.eventTime) < newest - latenessMs;
    const copies = arrivals.slice(events.length).filter(({ event }) => released(event)).length;
    const dropped: string[] = [];
    const updates: Finding[] = [];
    const pipeline = createPipeline(parseCoreConfig(config), { onFinding: (f) => updates.push(f), onDuplicate: (e) => dropped.push(e.eventId) });
    for (const { event } of arrivals.sort((a, b) => a.arrival - b.arrival)) expect(pipeline.apply(event).status).toBe('accepted');
    pipeline.advanceTo(asOf);
    pipeline.flush();
    expect(copies).toBeGreaterThan(20);
    expect(pipeline.stats().duplicates).toBe(copies);
    expect(new Set(dropped).size).toBe(copies);
    expect(pipeline.stats().applied).toBe(events.filter(released).length);
    expect(pipeline.stats().applied).toBe(ordered.pipeline.stats().applied);
    expect(pipeline.findings()).toEqual(ordered.findings);
    expect(updates).toEqual(ordered.updates);
  });

  it('rejects an event beyond the lateness instead of applying it out of order', () => {
    const { kit, events } = scenarios.clonedImage();
    const pipeline = createPipeline(parseCoreConfig({}));
    pipeline.apply(events[4]!);
    const late = pipeline.apply(kit.issue(9, { hwid: 'aa09', computer: 'PC-Z', day: 1 }));
    expect(late.status).toBe('too-late');
    expect(late.status === 'too-late' && late.error.code).toBe('PROCESSOR_EVENT_TOO_LATE');
    expect(pipeline.stats().tooLate).toBe(1);
  });
});

describe('leak-rate spike', () => {
  const { kit, events } = scenarios.issuanceSpike();

  it('opens on the day that takes many times the week before, not on the first load, and resolves a whole quiet day later', () => {
    const { updates, findings } = replay(events, kit.at(16));
    const spikes = updates.filter((u) => u.kind === 'leak-rate-spike');
    // Day 10: the median of days 3..9 is 2, the threshold max(10, 3 x 2) = 10, reached by the 8th extra CAL.
    expect(spikes.map((u) => [u.state, u.severity, u.updatedAt])).toEqual([
      ['open', 'high', kit.at(10.5 + 0.07)],
      ['resolved', 'high', kit.at(12)],
    ]);
    const [opened] = spikes;
    expect(opened!.licenseServer).toBe('LS-SPIKE');
    expect(opened!.productVersion).toBe('Windows Server 2019');
    expect(opened!.leakedCals).toBe(0);
    expect(opened!.firstSeen).toBe(kit.at(10));
    expect(opened!.summary).toContain('against a median of 2 per day');
    expect(findings.filter((f) => f.kind === 'leak-rate-spike' && f.state === 'open')).toEqual([]);
  });

  it('is open with its final count while the spike day lasts, critical when the day reaches 3 x the threshold', () => {
    const untilNight = events.filter((e) => e.eventTime <= kit.at(10.9));
    const open = replay(untilNight, kit.at(10.9)).findings.find((f) => f.kind === 'leak-rate-spike');
    expect(open?.state).toBe('open');
    expect(open?.summary).toContain('26 on 2024-01-11');
    const critical = replay(untilNight, kit.at(10.9), { spike: { minCals: 5, factor: 2 } }).findings.find((f) => f.kind === 'leak-rate-spike');
    // Threshold max(5, 2 x 2) = 5; 26 >= 3 x 5.
    expect(critical?.severity).toBe('critical');
  });

  it('severity rises at once and does not fall before the resolve; the pool is not involved', () => {
    const { updates } = replay(events, kit.at(16), { spike: { minCals: 5, factor: 2 }, severity: { holdDays: 3 } });
    const spikes = updates.filter((u) => u.kind === 'leak-rate-spike');
    expect(spikes.map((u) => [u.state, u.severity])).toEqual([
      ['open', 'high'],
      ['open', 'critical'],
      ['resolved', 'critical'],
    ]);
    expect(updates.some((u) => u.kind === 'pool-exhaustion')).toBe(false);
  });
});

describe('state round trip', () => {
  it('a pipeline restored from its JSON snapshot continues exactly like the uninterrupted one', () => {
    const events = [
      ...scenarios.clonedImage().events,
      ...scenarios.rebuiltDevice().events,
      ...scenarios.exhaustedPool().events,
      ...scenarios.cappedRevocations().events,
      ...scenarios.corruptedStore().events,
      ...scenarios.duplicateName().events,
      ...scenarios.issuanceSpike().events,
    ].sort((a, b) => a.eventTime.localeCompare(b.eventTime) || a.eventId.localeCompare(b.eventId));
    const asOf = '2024-04-01T00:00:00.000Z';
    const uninterrupted = replay(events, asOf);

    for (const cut of [5, Math.floor(events.length / 2), events.length - 2]) {
      const config = parseCoreConfig({});
      const updates: Finding[] = [];
      const first = createPipeline(config, { onFinding: (f) => updates.push(f) });
      for (const event of events.slice(0, cut)) first.apply(event);
      first.advanceTo(events[cut - 1]!.eventTime);
      const stored = JSON.parse(JSON.stringify(first.snapshot())) as unknown;
      const decoded = decodePipelineSnapshot(stored);
      if (!decoded.ok) throw decoded.error;
      const second = createPipeline(config, { onFinding: (f) => updates.push(f) }, decoded.snapshot);
      for (const event of events.slice(cut)) second.apply(event);
      second.advanceTo(asOf);
      expect(second.findings()).toEqual(uninterrupted.findings);
      expect(updates).toEqual(uninterrupted.updates);
    }
  });

  it('a damaged snapshot is a coded error, not a crash', () => {
    const decoded = decodePipelineSnapshot({ v: 1, byHwid: { x: { v: 2 } } });
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.error.code).toBe('PROCESSOR_STATE_INVALID');
  });
});

describe('bounded state', () => {
  it('a name forgets an HWID retentionDays after its last license ended, renewals counted', () => {
    const kit = createTimelineKit({ server: 'LS-B' });
    const pipeline = createPipeline(parseCoreConfig({}));
    const hwidsAt = (day: number, hwid: string, licenseId: number) => {
      expect(pipeline.apply(kit.issue(licenseId, { hwid, computer: 'PC-B', day })).status).toBe('accepted');
      pipeline.advanceTo(kit.at(day + 1));
      return (pipeline.stateOf('by-computer', 'LS-B|PC-B') as { hwids: { hwid: string }[] }).hwids.map((h) => h.hwid);
    };
    // Eight HWIDs (a churning name), issued on days 0-7 (valid to days 60-67), renewed on days
    // 50-57 (valid to days 110-117): kept to days 230-237 (retentionDays 120).
    const eight = [0, 1, 2, 3, 4, 5, 6, 7];
    for (const i of eight) pipeline.apply(kit.issue(i + 1, { hwid: `a${i}`, computer: 'PC-B', day: i }));
    for (const i of eight) pipeline.apply(kit.renew(i + 1, 50 + i));
    // Past the first expiries' retention (day 180) the name looks and keeps the renewed licenses;
    // past the renewed ones' it forgets those HWIDs.
    expect(hwidsAt(200, 'b1', 20)).toEqual([...eight.map((i) => `a${i}`), 'b1']);
    expect(hwidsAt(240, 'b2', 21)).toEqual(['b1', 'b2']);
  });
});
