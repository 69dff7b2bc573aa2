import { describe, expect, it } from 'vitest';
import { type EnrichedEvent, type Finding, PUBLISHED_LIST_MAX, type PlannedRevocation, type Revocation } from '@calwatch/model';
import { parseCoreConfig } from './config';
import type { FindingDraft } from './messages';
import { buildPublishedFinding } from './published-finding';
import { createPipeline } from './pipeline';
import { byEventTime, createTimelineKit } from '../testing/timeline-kit';

const REISSUES = 1_200;
const NAMES = 200;

/** A cloned image on 200 desktops whose one HWID is reissued 1,200 times within ten days. */
function massClone() {
  const kit = createTimelineKit({ server: 'LS-MASS' });
  const events = [kit.keyPack({ day: 0, keyPackId: 1, total: 2_000, available: 500 })];
  for (let i = 0; i < REISSUES; i++) {
    events.push(kit.issue(1_000 + i, { hwid: 'ee01', computer: `VDI-${String(i % NAMES).padStart(4, '0')}`, day: (i * 10) / REISSUES }));
  }
  return { kit, events: byEventTime(events) };
}

describe('a cloned image reissued 1,200 times through the pipeline', () => {
  const { kit, events } = massClone();
  const updates: Finding[] = [];
  const enriched: EnrichedEvent[] = [];
  const plan = new Map<string, PlannedRevocation>();
  const records: Revocation[] = [];
  // The state keeps up to 500 licenses per HWID by default; a larger store must still publish bounded records.
  const pipeline = createPipeline(parseCoreConfig({ state: { maxLicensesPerKey: 10_000 } }), {
    onFinding: (f) => updates.push(f),
    onEnriched: (e) => enriched.push(e),
    onRevocation: (r, key) => {
      records.push(r);
      if (r.state === 'planned') plan.set(key, r);
      else plan.delete(key);
    },
  });
  for (const event of events) pipeline.apply(event);
  pipeline.advanceTo(kit.at(10.5));
  pipeline.flush();
  const [finding] = pipeline.findings();

  it('has exact counts and lists of at most PUBLISHED_LIST_MAX, the newest license ids', () => {
    expect(finding).toMatchObject({ kind: 'cloned-image', state: 'open', schemaVersion: 2, hwidCount: 1, computerCount: NAMES, licenseCount: REISSUES });
    expect(finding!.leakedCals).toBe(REISSUES - NAMES);
    for (const list of [finding!.hwids, finding!.computers, finding!.licenseIds, finding!.reclaimableLicenseIds]) {
      expect(list.length).toBeLessThanOrEqual(PUBLISHED_LIST_MAX);
    }
    expect(finding!.computers).toEqual(Array.from({ length: PUBLISHED_LIST_MAX }, (_, i) => `VDI-${String(i).padStart(4, '0')}`));
    expect(finding!.licenseIds).toEqual(Array.from({ length: PUBLISHED_LIST_MAX }, (_, i) => 1_000 + REISSUES - PUBLISHED_LIST_MAX + i));
    expect(finding!.summary).toContain(`${NAMES} computers`);
  });

  it('summarises the revoke plan in batches whose counts add up to the revocation records', () => {
    const batches = finding!.revokePlan;
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.reduce((n, b) => n + b.licenseIds.length, 0)).toBeLessThanOrEqual(PUBLISHED_LIST_MAX);
    // 20% of 2,000 installed CALs at a time.
    expect(batches[0]).toMatchObject({ count: 400, product: 'Windows Server 2019' });
    expect(plan.size).toBe(batches.reduce((n, b) => n + b.count, 0));
    batches.forEach((b, i) => {
      const rows = [...plan.values()].filter((r) => r.batch === i + 1);
      expect(rows).toHaveLength(b.count);
      // A due batch is "now": its records keep the time they were planned at.
      const when = (t: string) => (t <= kit.at(10.5) ? 'now' : t);
      expect(rows.every((r) => when(r.notBefore) === when(b.notBefore) && r.findingId === finding!.id && r.keyPackId === 1)).toBe(true);
      expect(b.licenseIds.every((id) => rows.some((r) => r.licenseId === id))).toBe(true);
    });
  });

  it('keeps every published record small whatever the number of reissues', () => {
    const largestFinding = Math.max(...updates.map((u) => JSON.stringify(u).length));
    const largestEnriched = Math.max(...enriched.map((e) => JSON.stringify(e).length));
    const largestRevocation = Math.max(...records.map((r) => JSON.stringify(r).length));
    expect(largestFinding).toBeLessThan(16_000);
    expect(largestEnriched).toBeLessThan(8_000);
    expect(largestRevocation).toBeLessThan(1_000);
    const last = enriched.at(-1)!;
    expect(last.schemaVersion).toBe(2);
    expect(last.context.hwidLicenseCount).toBe(REISSUES);
    expect(last.context.hwidLicenseIds).toHaveLength(PUBLISHED_LIST_MAX);
    expect(last.context.hwidComputerCount).toBe(NAMES);
    expect(last.context.hwidComputers).toHaveLength(PUBLISHED_LIST_MAX);
  });
});

describe('buildPublishedFinding over 5,000 reissues', () => {
  const ids = Array.from({ length: 5_000 }, (_, i) => 10_000 + i);
  const names = Array.from({ length: 2_000 }, (_, i) => `VDI-${String(i).padStart(4, '0')}`);
  const draft: FindingDraft = {
    type: 'finding-draft',
    at: Date.parse('2024-01-10T00:00:00.000Z'),
    id: 'cloned-image:LS01:ee01',
    kind: 'cloned-image',
    state: 'open',
    severity: 'critical',
    licenseServer: 'LS01',
    hwids: ['ee01'],
    computers: [...names].reverse(),
    licenseIds: [...ids].reverse(),
    keyPackIds: [1],
    candidates: ids.slice(0, 3_000).map((licenseId) => ({ licenseId, keyPackId: 1, expiresAt: null })),
    firstSeen: Date.parse('2024-01-01T00:00:00.000Z'),
    lastSeen: Date.parse('2024-01-10T00:00:00.000Z'),
    timeline: [],
    summary: 's',
    remediation: 'r',
  };
  const day = (d: number) => Date.parse('2024-01-10T00:00:00.000Z') + d * 86_400_000;
  const finding = buildPublishedFinding({
    draft,
    productVersion: 'Windows Server 2019',
    reclaimable: draft.candidates.map((c) => c.licenseId),
    batches: [
      { notBefore: day(0), licenseIds: ids.slice(20, 40) },
      { notBefore: day(30), licenseIds: ids.slice(1_000, 2_000) },
      { notBefore: day(60), licenseIds: ids.slice(2_000, 3_000) },
    ],
    productOf: () => 'Windows Server 2019',
    updatedAt: draft.at,
  });

  it('counts everything and keeps the newest ids and the first names', () => {
    expect(finding).toMatchObject({ hwidCount: 1, computerCount: 2_000, licenseCount: 5_000, leakedCals: 3_000 });
    expect(finding.licenseIds).toEqual(ids.slice(-PUBLISHED_LIST_MAX));
    expect(finding.reclaimableLicenseIds).toEqual(ids.slice(3_000 - PUBLISHED_LIST_MAX, 3_000));
    expect(finding.computers).toEqual(names.slice(0, PUBLISHED_LIST_MAX));
  });

  it('fills batch ids from the next batch on, PUBLISHED_LIST_MAX in all', () => {
    expect(finding.revokePlan.map((b) => [b.count, b.licenseIds.length, b.product])).toEqual([
      [20, 20, 'Windows Server 2019'],
      [1_000, PUBLISHED_LIST_MAX - 20, 'Windows Server 2019'],
      [1_000, 0, 'Windows Server 2019'],
    ]);
    expect(finding.revokePlan[1]!.licenseIds).toEqual(ids.slice(1_000, 1_000 + PUBLISHED_LIST_MAX - 20));
    expect(JSON.stringify(finding).length).toBeLessThan(6_000);
  });
});
