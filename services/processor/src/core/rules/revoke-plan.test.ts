import { describe, expect, it } from 'vitest';
import { type PlanInput, type ProductQuota, buildRevokePlan, candidatesByLicenseId, revokeCap } from './revoke-plan';

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

describe('buildRevokePlan without batches to make', () => {
  /** A small deterministic generator (mulberry32): the same cases on every run. */
  function random(seed: number) {
    let a = seed >>> 0;
    const next = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]! };
  }

  /** A plan with room in every quota most of the time, sometimes too little, sometimes a deferral (event 81). */
  function randomInput(seed: number): { input: PlanInput; reads: () => number } {
    const r = random(seed);
    const now = 100 * DAY;
    const products = ['a', 'b', 'c'];
    const expiry = () => r.pick([null, now - r.int(5) * DAY, now, now + (1 + r.int(80)) * DAY, now + (1 + r.int(80)) * DAY]);
    const quotas: Record<string, ProductQuota> = {};
    const roomy = r.next() < 0.7;
    for (const p of products) {
      if (!roomy && r.next() < 0.3) continue;
      quotas[p] = {
        installed: roomy ? r.pick([2000, 5000]) : r.pick([null, 5, 40, 2000]),
        revokedUntil: Array.from({ length: r.int(4) }, expiry),
        reportedRevoked: r.next() < 0.2 ? r.int(5) : null,
        nextRevokeAllowedAt: r.next() < 0.1 ? r.pick([now - DAY, now, now + 3 * DAY]) : null,
      };
    }
    let reads = 0;
    const findings = Array.from({ length: 1 + r.int(8) }, (_, f) => {
      const ids = new Set<number>();
      const size = r.int(40);
      while (ids.size < size) ids.add(r.int(120));
      const list = [...ids].map((licenseId) => ({ licenseId, product: r.pick(products), expiresAt: expiry() }));
      // Now and then an id twice in one finding (a licenseId reused): only the batching plans that.
      if (list.length > 0 && r.next() < 0.05) list.push({ ...list[0]!, expiresAt: expiry() });
      const byLicenseId = candidatesByLicenseId(list, (c) => c.product);
      const named = [...new Set(list.map((c) => c.product))];
      // Half the findings come with their counts per product (as by-server keeps them).
      const counted = r.next() < 0.5 ? { productCounts: named.map((p) => list.filter((c) => c.product === p).length) } : {};
      return {
        id: `f${f}`,
        products: named,
        ...counted,
        get candidates() {
          reads++;
          return list;
        },
        ...(byLicenseId === undefined ? {} : { byLicenseId }),
      };
    });
    const excluded = new Set(Array.from({ length: r.int(10) }, () => r.int(120)));
    const input: PlanInput = { now, findings, quotas, excluded, capRatio: 0.2, maxBatches: r.pick([1, 3, 12]), unknownExpiryMs: r.pick([0, 89 * DAY]) };
    return { input, reads: () => reads };
  }

  it('plans CAL for CAL and batch for batch what the batching plans, and reads no list in expiry order', () => {
    let unbound = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const { input, reads } = randomInput(seed);
      const fast = buildRevokePlan(input);
      const readByFast = reads();
      // Without the lists by license id the batching decides.
      const batched = buildRevokePlan({ ...input, findings: input.findings.map(({ id, products, candidates }) => ({ id, products, candidates })) });
      expect([[...fast.batches], [...fast.freeNow]], `seed ${seed}`).toEqual([[...batched.batches], [...batched.freeNow]]);
      if (readByFast === 0) unbound++;
    }
    // Most random plans have room; the rest (tight quotas, deferrals, an id twice) go to the batching.
    expect(unbound).toBeGreaterThan(600);
    expect(unbound).toBeLessThan(1900);
  });

  it('lists candidates by ascending license id, and none when an id is listed twice', () => {
    const list = [
      { licenseId: 7, product: 'a', expiresAt: 5 },
      { licenseId: 3, product: 'b', expiresAt: null },
      { licenseId: 5, product: 'a', expiresAt: 9 },
    ];
    expect(candidatesByLicenseId(list, (c) => c.product)).toEqual({
      ids: [3, 5, 7],
      expiresAt: [null, 9, 5],
      productIndex: [0, 1, 1],
      products: ['b', 'a'],
      counts: [1, 2],
    });
    expect(candidatesByLicenseId([...list, { licenseId: 5, product: 'a', expiresAt: 1 }], (c) => c.product)).toBeUndefined();
  });
});
