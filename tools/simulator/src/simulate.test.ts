import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CanonicalEvent, type LicenseFact } from '@calwatch/model';
import { parseMix } from './config';
import { DAY_MS } from './fleet';
import { KEY_PACK_IDS } from './license-server';
import { simulateFleet, type FleetSnapshot, type SimulationItem } from './simulate';
import { GroundTruth, type TruthScenario } from './truth';

type Lifecycle = Extract<CanonicalEvent, { license: LicenseFact }>;

function collect(items: Iterable<SimulationItem>) {
  const events: CanonicalEvent[] = [];
  const snapshots: FleetSnapshot[] = [];
  for (const item of items) {
    if (item.kind === 'event') events.push(item.event);
    else snapshots.push(item.snapshot);
  }
  const lifecycle = events.filter((e): e is Lifecycle => e.type.startsWith('license.'));
  const codes = events.flatMap((e) => (e.type === 'service.event' ? [e.event.code] : []));
  return { events, snapshots, lifecycle, codes };
}

const ms = (iso: string | null): number => Date.parse(iso!);
const scenariosOf = (truth: GroundTruth, kind: TruthScenario['kind']) => truth.scenarios.filter((s) => s.kind === kind);

describe('simulateFleet with a pool large enough for everyone', () => {
  const simulation = simulateFleet({
    devices: 200,
    days: 200,
    seed: 5,
    pool: 100_000,
    mix: parseMix('cloned=1x4,vdi=3,deleter=2/5,rebuild=4,duplicate=2x2,corrupted=2/3'),
  });
  const run = collect(simulation.items());
  const truth = simulation.truth();

  it('emits valid canonical events in time order and a valid truth', () => {
    let last = 0;
    for (const item of simulation.items()) {
      const at = ms(item.kind === 'event' ? item.event.eventTime : item.snapshot.takenAt);
      expect(at).toBeGreaterThanOrEqual(last);
      last = at;
    }
    for (const event of simulation.events()) expect(CanonicalEvent.safeParse(event).success).toBe(true);
    expect(GroundTruth.safeParse(truth).success).toBe(true);
    expect(run.snapshots).toHaveLength(200);
    expect(truth.totals.snapshots).toBe(200);
  });

  it('issues temporaries for 90 days, upgrades and renews for 52–89 days, renewing only within 7 days of expiry', () => {
    const byType = (type: Lifecycle['type']) => run.lifecycle.filter((e) => e.type === type);
    const temporaries = byType('license.issued').filter((e) => e.license.status === 'temporary');
    expect(temporaries.length).toBeGreaterThan(200);
    for (const e of temporaries) expect(ms(e.license.expirationDate) - ms(e.license.issueDate)).toBe(90 * DAY_MS);

    const upgrades = byType('license.upgraded');
    expect(upgrades.length).toBeGreaterThan(150);
    const renewals = byType('license.renewed');
    expect(renewals.length).toBeGreaterThan(150);
    for (const e of [...upgrades, ...renewals]) {
      const days = (ms(e.license.expirationDate) - ms(e.eventTime)) / DAY_MS;
      expect(days).toBeGreaterThanOrEqual(52);
      expect(days).toBeLessThanOrEqual(89);
    }
    for (const e of renewals) {
      if (e.type !== 'license.renewed') continue;
      const left = ms(e.previousExpirationDate) - ms(e.eventTime);
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(7 * DAY_MS);
    }
    expect(run.codes).toEqual([]);
    expect(truth.scenarios.some((s) => s.kind === 'pool-exhaustion')).toBe(false);
  });

  it('never gives a healthy machine a second live CAL', () => {
    expect(truth.totals.healthySurplusAtEnd).toBe(0);
    const scenarioHwids = new Set(truth.scenarios.flatMap((s) => s.hwids));
    for (const snapshot of run.snapshots) {
      const live = new Map<string, number>();
      for (const l of snapshot.licenses) {
        if (scenarioHwids.has(l.hwid.norm) || l.status === 'revoked') continue;
        live.set(l.hwid.norm, (live.get(l.hwid.norm) ?? 0) + 1);
      }
      expect(Math.max(0, ...live.values())).toBeLessThanOrEqual(1);
    }
  });

  it('makes a cloned image re-issue CALs: one HWID under several names, many licenses', () => {
    const [cloned] = scenariosOf(truth, 'cloned-image');
    expect(cloned!.hwids).toHaveLength(1);
    expect(cloned!.computers).toHaveLength(4);
    expect(cloned!.licenseIds.length).toBeGreaterThan(50);
    const issued = run.lifecycle.filter((e) => e.type === 'license.issued' && e.license.hwid.norm === cloned!.hwids[0]);
    expect(issued).toHaveLength(cloned!.licenseIds.length);
    // A re-issue is a new license for the HWID under a name other than the previous one.
    const reissues = issued.filter((e, i) => i > 0 && e.license.computer.norm !== issued[i - 1]!.license.computer.norm);
    expect(reissues.length).toBeGreaterThan(issued.length / 2);
    expect(cloned!.leakedCals).toBeGreaterThan(4);
  });

  it('leaves exactly one orphan after a rebuild, and it expires', () => {
    const rebuilds = scenariosOf(truth, 'rebuild');
    expect(rebuilds).toHaveLength(4);
    for (const scenario of rebuilds) {
      expect(scenario.hwids).toHaveLength(2);
      const rebuiltAt = ms(String(scenario.details.rebuiltAt));
      const events = run.lifecycle.filter((e) => scenario.licenseIds.includes(e.license.licenseId));
      const newHwid = events.find((e) => e.type === 'license.issued' && ms(e.eventTime) >= rebuiltAt)!.license.hwid.norm;
      const oldHwid = scenario.hwids.find((h) => h !== newHwid)!;
      const oldIssued = events.filter((e) => e.type === 'license.issued' && e.license.hwid.norm === oldHwid);
      expect(oldIssued).toHaveLength(1);
      const orphan = oldIssued[0]!.license.licenseId;
      const after = events.filter((e) => e.license.licenseId === orphan && ms(e.eventTime) >= rebuiltAt);
      expect(after.map((e) => e.type)).toEqual(['license.returned']);
      const returned = after[0]!;
      expect(returned.type === 'license.returned' && returned.reason).toBe('expired');
      expect(scenario.leakedCals).toBe(0);
      expect(scenario.firstEvidenceAt).not.toBeNull();
    }
  });

  it('lets duplicate names each keep and renew their own CAL, and calls them benign', () => {
    const duplicates = scenariosOf(truth, 'duplicate-name');
    expect(duplicates).toHaveLength(2);
    for (const scenario of duplicates) {
      expect(scenario.benign).toBe(true);
      expect(scenario.computers).toHaveLength(1);
      expect(scenario.hwids).toHaveLength(2);
      expect(scenario.leakedCals).toBe(0);
      for (const hwid of scenario.hwids) {
        const renewals = run.lifecycle.filter((e) => e.type === 'license.renewed' && e.license.hwid.norm === hwid);
        expect(renewals.length).toBeGreaterThan(0);
      }
    }
  });

  it('churns HWIDs for VDI and MSLicensing deletion, and shows corrupted stores with several HWIDs', () => {
    for (const vdi of scenariosOf(truth, 'vdi-churn')) {
      expect(vdi.computers).toHaveLength(1);
      expect(vdi.hwids.length).toBeGreaterThan(100);
      expect(vdi.leakedCals).toBeGreaterThan(20);
    }
    for (const deleter of scenariosOf(truth, 'mslicensing-deleter')) {
      expect(deleter.details.deleteEveryDays).toBe(5);
      expect(deleter.hwids.length).toBeGreaterThanOrEqual(30);
      expect(deleter.hwids.length).toBeLessThanOrEqual(41);
    }
    const corrupted = scenariosOf(truth, 'corrupted-store');
    const stores = run.snapshots.at(-1)!.clientStores;
    expect(stores.map((s) => s.computer.norm).sort()).toEqual(corrupted.flatMap((s) => s.computers).sort());
    for (const scenario of corrupted) {
      expect(scenario.hwids).toHaveLength(3);
      const store = stores.find((s) => s.computer.norm === scenario.computers[0])!;
      expect(store.hwids.map((h) => h.norm).sort()).toEqual(scenario.hwids);
      expect(scenario.leakedCals).toBe(2);
    }
  });

  it('accounts leaked CALs as the live ones beyond the newest per machine', () => {
    const last = run.snapshots.at(-1)!;
    const live = new Set(last.licenses.filter((l) => l.status !== 'revoked').map((l) => l.licenseId));
    for (const scenario of truth.scenarios) {
      for (const id of scenario.liveLicenseIds) expect(live.has(id)).toBe(true);
      expect(scenario.leakedLicenseIds.every((id) => scenario.liveLicenseIds.includes(id))).toBe(true);
      expect(scenario.leakedCals).toBe(scenario.leakedLicenseIds.length);
      expect(scenario.liveLicenseIds.length - scenario.leakedCals).toBeLessThanOrEqual(scenario.machines);
    }
  });
});

describe('simulateFleet with a pool that runs out', () => {
  const pool = 30;
  const simulation = simulateFleet({ devices: 40, days: 120, seed: 1, pool, mix: parseMix('cloned=2x8') });
  const run = collect(simulation.items());
  const truth = simulation.truth();

  it('never over-allocates the pool, and key packs agree with the table', () => {
    for (const snapshot of run.snapshots) {
      const active = snapshot.licenses.filter((l) => l.status === 'active').length;
      expect(active).toBeLessThanOrEqual(pool);
      const permanent = snapshot.keyPacks.find((k) => k.keyPackId === KEY_PACK_IDS.permanent)!;
      expect(permanent.issuedLicenses).toBe(active);
      expect(permanent.availableLicenses).toBe(pool - active);
      const temporary = snapshot.keyPacks.find((k) => k.keyPackId === KEY_PACK_IDS.temporary)!;
      expect(temporary.issuedLicenses).toBe(snapshot.licenses.filter((l) => l.status === 'temporary').length);
    }
  });

  it('logs low pool (20), no permanent CALs (21), revocations (80), the revocation limit (81) and refusals', () => {
    for (const code of [20, 21, 80, 81]) expect(run.codes).toContain(code);
    expect(run.codes.some((c) => c === 1011 || c === 1028)).toBe(true);
    const limit = run.events.find((e) => e.type === 'service.event' && e.event.code === 81);
    expect(limit?.type === 'service.event' && limit.event.installedCount).toBe(pool);
    expect(limit?.type === 'service.event' && limit.event.revokedCount).toBe(Math.floor(pool * 0.2));
  });

  it('records the exhaustion in the truth from the first event 21', () => {
    const [exhaustion] = scenariosOf(truth, 'pool-exhaustion');
    const first21 = run.events.find((e) => e.type === 'service.event' && e.event.code === 21)!;
    expect(exhaustion!.firstEvidenceAt).toBe(first21.eventTime);
    expect(exhaustion!.details.installed).toBe(pool);
    expect(exhaustion!.licenseIds.length).toBeGreaterThan(0);
    expect(truth.totals.peakPermanentInUse).toBe(pool);
  });
});

describe('determinism', () => {
  const digest = (seed: number): string => {
    const hash = createHash('sha256');
    for (const item of simulateFleet({ devices: 120, days: 45, seed, pool: 100 }).items()) hash.update(JSON.stringify(item));
    return hash.digest('hex');
  };

  it('gives the same stream for the same seed and another for another seed', () => {
    expect(digest(11)).toBe(digest(11));
    expect(digest(11)).not.toBe(digest(12));
  });

  it('gives a machine the same HWID and schedule whatever the size of the fleet', () => {
    const firstIssue = (devices: number) => {
      const times = new Map<string, string>();
      for (const event of simulateFleet({ devices, days: 10, seed: 3, mix: parseMix('none') }).events()) {
        if (event.type === 'license.issued' && !times.has(event.license.hwid.norm)) times.set(event.license.hwid.norm, event.eventTime);
      }
      return times;
    };
    const small = firstIssue(50);
    const large = firstIssue(80);
    expect(small.size).toBeGreaterThan(40);
    expect(large.size).toBeGreaterThan(small.size);
    for (const [hwid, at] of small) expect(large.get(hwid)).toBe(at);
  });
});
