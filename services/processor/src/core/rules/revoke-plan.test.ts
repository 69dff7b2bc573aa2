import { describe, expect, it } from 'vitest';
import { type PlanInput, buildRevokePlan, revokeCap } from './revoke-plan';

const DAY = 86_400_000;
const base: Omit<PlanInput, 'findings' | 'quotas'> = { now: 0, capRatio: 0.2, maxBatches: 12, unknownExpiryMs: 89 * DAY };
const quota = (installed: number | null, revokedUntil: (number | null)[] = []) => ({
  installed,
  revokedUntil,
  reportedRevoked: null,
  nextRevokeAllowedAt: null,
});

describe('revokeCap', () => {
  it.each([
    [null, 1],
    [0, 1],
    [4, 1],
    [9, 1],
    [10, 2],
    [14, 2],
    [100, 20],
  ])('installed %s -> %s', (installed, cap) => {
    expect(revokeCap(installed, 0.2)).toBe(cap);
  });
});

describe('buildRevokePlan', () => {
  it('never plans an excluded (already revoked) CAL, even while a finding still lists it', () => {
    const candidates = [1, 2, 3].map((licenseId) => ({ licenseId, product: 'p', expiresAt: (40 + licenseId) * DAY }));
    const plan = buildRevokePlan({ ...base, quotas: { p: quota(100) }, findings: [{ id: 'f', candidates }], excluded: new Set([2]) });
    expect(plan.batches.get('f')).toEqual([{ notBefore: 0, licenseIds: [1, 3] }]);
  });

  it('serves the worst finding first, schedules each CAL once and drops CALs that expire before their turn', () => {
    const plan = buildRevokePlan({
      ...base,
      quotas: { p: quota(5) },
      findings: [
        { id: 'worst', candidates: [{ licenseId: 2, product: 'p', expiresAt: 60 * DAY }, { licenseId: 1, product: 'p', expiresAt: 50 * DAY }] },
        { id: 'other', candidates: [{ licenseId: 2, product: 'p', expiresAt: 60 * DAY }, { licenseId: 3, product: 'p', expiresAt: 40 * DAY }] },
      ],
    });
    // cap 1: CAL 1 now, CAL 2 when CAL 1 reaches its expiry (day 50); CAL 3 returns by itself on day 40.
    expect(Object.fromEntries(plan.batches)).toEqual({
      worst: [
        { notBefore: 0, licenseIds: [1] },
        { notBefore: 50 * DAY, licenseIds: [2] },
      ],
    });
  });

  it('keeps a separate cap per CAL version and counts already revoked CALs', () => {
    const plan = buildRevokePlan({
      ...base,
      quotas: { '2019': quota(10, [30 * DAY]), '2022': quota(100) },
      findings: [
        {
          id: 'f',
          candidates: [
            { licenseId: 1, product: '2019', expiresAt: 40 * DAY },
            { licenseId: 2, product: '2019', expiresAt: 45 * DAY },
            { licenseId: 3, product: '2019', expiresAt: 50 * DAY },
            { licenseId: 4, product: '2022', expiresAt: 50 * DAY },
            { licenseId: 5, product: '2022', expiresAt: 55 * DAY },
          ],
        },
      ],
    });
    // 2019: cap 2, one slot held until day 30 -> 1 now, 2 on day 30, 3 on day 40. 2022: cap 20 -> both now.
    expect(Object.fromEntries(plan.freeNow)).toEqual({ '2019': 0, '2022': 18 });
    expect(plan.batches.get('f')).toEqual([
      { notBefore: 0, licenseIds: [1, 4, 5] },
      { notBefore: 30 * DAY, licenseIds: [2] },
      { notBefore: 40 * DAY, licenseIds: [3] },
    ]);
  });

  it('starts at the date event 81 gave and fills what the server reported as revoked', () => {
    const plan = buildRevokePlan({
      ...base,
      quotas: { p: { installed: 10, revokedUntil: [], reportedRevoked: 2, nextRevokeAllowedAt: 5 * DAY } },
      findings: [
        {
          id: 'f',
          candidates: [1, 2, 3].map((licenseId) => ({ licenseId, product: 'p', expiresAt: (20 + licenseId) * DAY })),
        },
      ],
    });
    // Both reported slots free on day 5; the third CAL waits for the first revoked to expire (day 21).
    expect(plan.batches.get('f')).toEqual([
      { notBefore: 5 * DAY, licenseIds: [1, 2] },
      { notBefore: 21 * DAY, licenseIds: [3] },
    ]);
  });

  it('stops after maxBatches and assumes the smallest cap without an inventory', () => {
    const plan = buildRevokePlan({
      ...base,
      maxBatches: 2,
      quotas: {},
      findings: [{ id: 'f', candidates: [1, 2, 3].map((licenseId) => ({ licenseId, product: 'unknown', expiresAt: licenseId * 10 * DAY })) }],
    });
    expect(plan.batches.get('f')).toEqual([
      { notBefore: 0, licenseIds: [1] },
      { notBefore: 10 * DAY, licenseIds: [2] },
    ]);
  });
});

describe('buildRevokePlan reads only what it plans', () => {
  /** Findings whose candidate lists count how far the planner read them. */
  function counted(lists: { id: string; candidates: { licenseId: number; product: string; expiresAt: number }[] }[]) {
    let reads = 0;
    const findings = lists.map(({ id, candidates }) => ({
      id,
      products: [...new Set(candidates.map((c) => c.product))],
      candidates: new Proxy(candidates, {
        get(target, key, receiver) {
          if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
          return Reflect.get(target, key, receiver) as unknown;
        },
      }),
    }));
    return { findings, reads: () => reads };
  }

  it('takes a dozen batches of one CAL from 20 findings of 1,000 CALs each without reading the rest', () => {
    const lists = Array.from({ length: 20 }, (_, f) => ({
      id: `f${f}`,
      candidates: Array.from({ length: 1000 }, (_, i) => ({ licenseId: f * 1000 + i, product: 'p', expiresAt: (10 + i) * DAY })),
    }));
    const { findings, reads } = counted(lists);
    const plan = buildRevokePlan({ ...base, quotas: { p: quota(null) }, findings });
    // cap 1, 12 batches: the first finding's 12 soonest-expiring CALs, one per day as each reaches its expiry.
    expect(plan.batches.get('f0')?.map((b) => b.licenseIds)).toEqual(Array.from({ length: 12 }, (_, i) => [i]));
    expect(plan.batches.size).toBe(1);
    expect(reads()).toBeLessThan(2 * 1000 + 100);
  });

  it('plans every product a finding names, and gives none to a product whose CALs are all excluded', () => {
    const plan = buildRevokePlan({
      ...base,
      quotas: { a: quota(10) },
      findings: [
        { id: 'x', candidates: [{ licenseId: 1, product: 'b', expiresAt: 30 * DAY }, { licenseId: 2, product: 'a', expiresAt: 40 * DAY }] },
        { id: 'y', candidates: [{ licenseId: 3, product: 'c', expiresAt: 50 * DAY }] },
      ],
      excluded: new Set([3]),
    });
    expect(plan.batches.get('x')).toEqual([{ notBefore: 0, licenseIds: [1, 2] }]);
    expect(plan.batches.has('y')).toBe(false);
    expect(Object.fromEntries(plan.freeNow)).toEqual({ a: 1, b: 0 });
  });
});
