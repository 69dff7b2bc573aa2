import { describe, expect, it } from 'vitest';
import type { Revocation } from '@calwatch/model';
import { parseCoreConfig } from './config';
import type { FindingDraft } from './messages';
import { createPipeline } from './pipeline';
import { diffRevocations, type RevocationDiffInput } from './revocation-diff';
import type { PlanBatch } from './rules/revoke-plan';
import * as scenarios from '../testing/scenarios';
import { byEventTime, createSeededRandom } from '../testing/timeline-kit';

const T = Date.parse('2024-01-10T00:00:00.000Z');
const DAY = 86_400_000;

const draft = (state: 'open' | 'resolved' = 'open'): FindingDraft => ({
  type: 'finding-draft',
  at: T,
  id: 'cloned-image:LS01:aa01',
  kind: 'cloned-image',
  state,
  severity: 'high',
  licenseServer: 'LS01',
  hwids: ['aa01'],
  computers: ['PC-A', 'PC-B'],
  licenseIds: [1, 2, 3, 4],
  keyPackIds: [7],
  candidates: [1, 2, 3].map((licenseId) => ({ licenseId, keyPackId: 7, expiresAt: T + 40 * DAY })),
  firstSeen: T - DAY,
  lastSeen: T,
  timeline: [],
  summary: 's',
  remediation: 'r',
});

function diff(over: Partial<RevocationDiffInput>): Array<[number, string, number | string]> {
  return diffRevocations({
    draft: draft(),
    previous: [],
    next: [],
    clock: T,
    ownerOf: () => undefined,
    productVersionOf: () => 'Windows Server 2019',
    ...over,
  }).map((r) => [r.licenseId, r.state, r.state === 'planned' ? r.batch : r.reason]);
}

describe('diffRevocations', () => {
  it('plans every license of a new plan with its batch, key pack, product and expiry', () => {
    const [first] = diffRevocations({
      draft: draft(),
      previous: [],
      next: [{ notBefore: T, licenseIds: [1] }],
      clock: T,
      ownerOf: () => undefined,
      productVersionOf: (id) => (id === 7 ? 'Windows Server 2019' : null),
    });
    expect(first).toEqual({
      schemaVersion: 1,
      state: 'planned',
      licenseServer: 'LS01',
      licenseId: 1,
      findingId: 'cloned-image:LS01:aa01',
      kind: 'cloned-image',
      keyPackId: 7,
      productVersion: 'Windows Server 2019',
      batch: 1,
      notBefore: '2024-01-10T00:00:00.000Z',
      expiresAt: '2024-02-19T00:00:00.000Z',
      updatedAt: '2024-01-10T00:00:00.000Z',
    });
  });

  it('writes only what changed: added, moved to another batch, withdrawn', () => {
    const previous = [
      { notBefore: T, licenseIds: [1] },
      { notBefore: T + 30 * DAY, licenseIds: [2, 3] },
    ];
    const next = [
      { notBefore: T, licenseIds: [1, 2] },
      { notBefore: T + 30 * DAY, licenseIds: [4] },
    ];
    expect(diff({ previous, next })).toEqual([
      [2, 'planned', 1],
      [3, 'withdrawn', 'left-plan'],
      [4, 'planned', 2],
    ]);
  });

  it('writes nothing for a due batch re-planned at a later "now", but does when a later batch moves', () => {
    const previous = [{ notBefore: T - DAY, licenseIds: [1] }, { notBefore: T + 30 * DAY, licenseIds: [2] }];
    expect(diff({ previous, next: [{ notBefore: T, licenseIds: [1] }, { notBefore: T + 30 * DAY, licenseIds: [2] }] })).toEqual([]);
    expect(diff({ previous, next: [{ notBefore: T, licenseIds: [1] }, { notBefore: T + 31 * DAY, licenseIds: [2] }] })).toEqual([[2, 'planned', 2]]);
  });

  it('withdraws the whole plan of a resolved finding', () => {
    expect(diff({ draft: draft('resolved'), previous: [{ notBefore: T, licenseIds: [1, 2] }], next: [] })).toEqual([
      [1, 'withdrawn', 'finding-resolved'],
      [2, 'withdrawn', 'finding-resolved'],
    ]);
  });

  it('does not withdraw a license another finding now plans (its record replaces this one under the same key)', () => {
    expect(diff({ previous: [{ notBefore: T, licenseIds: [1, 2] }], next: [{ notBefore: T, licenseIds: [1] }], ownerOf: (id) => (id === 2 ? 'other' : undefined) })).toEqual([]);
  });

  it('equals a license-by-license comparison of the two plans, on random replans of a plan of hundreds', () => {
    // What the records say, read from every license of both plans: the definition the diff keeps.
    const reference = (previous: readonly PlanBatch[], next: readonly PlanBatch[], clock: number, ownerOf: (id: number) => string | undefined) => {
      const slot = (batches: readonly PlanBatch[]) => new Map(batches.flatMap((b, i) => b.licenseIds.map((id) => [id, { batch: i + 1, due: b.notBefore <= clock ? -1 : b.notBefore }] as const)));
      const before = slot(previous);
      const after = slot(next);
      const out: Array<[number, string, number | string]> = [];
      for (const [id, s] of after) {
        const was = before.get(id);
        if (was === undefined || was.batch !== s.batch || was.due !== s.due) out.push([id, 'planned', s.batch]);
      }
      for (const id of before.keys()) if (!after.has(id) && (ownerOf(id) ?? 'mine') === 'mine') out.push([id, 'withdrawn', 'left-plan']);
      return out.sort((a, b) => a[0] - b[0]);
    };
    const random = createSeededRandom(5);
    const plan = (ids: number[], at: number): PlanBatch[] => {
      const batches: PlanBatch[] = [];
      for (let i = 0, n = 0; i < ids.length; n++) {
        const size = 1 + Math.floor(random() * 60);
        batches.push({ notBefore: at + n * 7 * DAY, licenseIds: ids.slice(i, i + size).sort((a, b) => a - b) });
        i += size;
      }
      return batches;
    };
    let alike = 0;
    for (let round = 0; round < 200; round++) {
      const ids = Array.from({ length: 300 }, (_, i) => i + 1).filter(() => random() < 0.9);
      const previous = plan(ids, T - Math.floor(random() * 3) * DAY);
      // The next plan keeps a prefix of batches as they were, then re-deals the rest with some
      // licenses gone, some new, some another finding's now.
      const keep = Math.floor(random() * previous.length);
      // Kept batches sometimes re-planned a day later: alike only while both are due or neither moved.
      const kept = previous.slice(0, keep).map((b) => (random() < 0.3 ? { ...b, notBefore: b.notBefore + DAY } : b));
      const rest = ids.filter((id) => !kept.some((b) => b.licenseIds.includes(id)) && random() < 0.85);
      for (let id = 301; id < 301 + Math.floor(random() * 20); id++) rest.push(id);
      const clock = T + Math.floor(random() * 3) * DAY;
      const next = [...kept, ...plan(rest, kept.length > 0 ? kept.at(-1)!.notBefore + 7 * DAY : T)];
      const other = new Set(ids.filter(() => random() < 0.05));
      const ownerOf = (id: number) => (other.has(id) ? 'another' : undefined);
      alike += keep;
      expect(diff({ previous, next, clock, ownerOf })).toEqual(reference(previous, next, clock, ownerOf));
    }
    expect(alike).toBeGreaterThan(500);
  });
});

describe('revocations from the pipeline', () => {
  function run(extra: (kit: ReturnType<typeof scenarios.clonedImage>['kit']) => Parameters<ReturnType<typeof createPipeline>['apply']>[0][], asOf: number) {
    const { kit, events } = scenarios.clonedImage();
    const records: Revocation[] = [];
    const plan = new Map<string, Revocation>();
    const pipeline = createPipeline(parseCoreConfig({}), {
      onRevocation: (r, key) => {
        expect(key).toBe(`${r.licenseServer}|${r.licenseId}`);
        records.push(r);
        if (r.state === 'planned') plan.set(key, r);
        else plan.delete(key);
      },
    });
    for (const event of byEventTime([...events, ...extra(kit)])) pipeline.apply(event);
    pipeline.advanceTo(kit.at(asOf));
    pipeline.flush();
    return { records, plan, findings: pipeline.findings() };
  }

  it('plans the reclaimable CALs of an open finding, one record each', () => {
    const { records, plan, findings } = run(() => [], 4);
    expect(records.map((r) => [r.licenseId, r.state])).toEqual([
      [1, 'planned'],
      [2, 'planned'],
    ]);
    expect([...plan.keys()]).toEqual(['LS-CLONE|1', 'LS-CLONE|2']);
    expect(findings[0]!.revokePlan.map((b) => b.count)).toEqual([2]);
  });

  it('withdraws a CAL once it is revoked; the rest stay planned after the cause stopped, until the finding resolves', () => {
    const quiet = run((kit) => [kit.revoke(1, 5)], 20);
    const withdrawn = quiet.records.filter((r) => r.state === 'withdrawn').map((r) => [r.licenseId, r.state === 'withdrawn' ? r.reason : null]);
    expect(withdrawn).toEqual([[1, 'left-plan']]);
    expect([...quiet.plan.keys()].map((k) => k.split('|')[1])).toEqual(['2']);
    const later = run((kit) => [kit.revoke(1, 5), kit.revoke(2, 21)], 22);
    expect(later.records.filter((r) => r.state === 'withdrawn').map((r) => r.licenseId)).toEqual([1, 2]);
    expect(later.plan.size).toBe(0);
  });

  it('withdraws a CAL that expires before it is revoked', () => {
    const { kit } = scenarios.clonedImage();
    const expiry = Date.parse(kit.license(1).expirationDate!);
    const { records } = run((k) => [k.returned(1, (expiry - Date.parse(k.at(0))) / DAY, 'expired')], (expiry - Date.parse(kit.at(0))) / DAY + 0.5);
    expect(records.some((r) => r.licenseId === 1 && r.state === 'withdrawn')).toBe(true);
  });

  it('sends every open plan once, whole, from state kept before the revocations topic existed', () => {
    const { kit, events } = scenarios.clonedImage();
    const before = createPipeline(parseCoreConfig({}));
    for (const event of byEventTime(events)) before.apply(event);
    before.advanceTo(kit.at(4));
    before.flush();
    const snapshot = before.snapshot();
    for (const state of Object.values(snapshot.byServer)) delete state.revocationsOut;

    const records: Revocation[] = [];
    const after = createPipeline(parseCoreConfig({}), { onRevocation: (r) => records.push(r) }, snapshot);
    after.apply(kit.keyPack({ day: 4.5, keyPackId: 1, total: 100, available: 50 }));
    after.advanceTo(kit.at(5));
    expect(records.map((r) => [r.licenseId, r.state, r.state === 'planned' ? r.batch : null])).toEqual([
      [1, 'planned', 1],
      [2, 'planned', 1],
    ]);
    records.length = 0;
    after.apply(kit.keyPack({ day: 5.5, keyPackId: 1, total: 100, available: 50 }));
    after.advanceTo(kit.at(6));
    expect(records).toEqual([]);
  });
});
