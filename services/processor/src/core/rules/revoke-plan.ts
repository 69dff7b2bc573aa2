import { sortAscendingInPlace } from '@calwatch/model';
import { LicenseIdSet } from '../license-id-set';

/**
 * The revoke planner. Per CAL version a license server revokes at most
 * max(1, floor(cap ratio x installed)) CALs at a time, and a revoked CAL keeps its place
 * in that quota until its original expiry. Given every open leak finding of one server,
 * worst first, it schedules their reclaimable CALs into batches: the first when quota is
 * free, later ones when enough revoked CALs reach their original expiry.
 */

export interface PlanCandidate {
  licenseId: number;
  product: string;
  /** Original expiry (epoch ms); null = unknown, assumed to hold quota for the longest validity. */
  expiresAt: number | null;
}

export interface PlanFinding {
  id: string;
  /** Worst first: the caller orders findings before planning. */
  candidates: readonly PlanCandidate[];
  /** The distinct products of `candidates`, when the caller keeps them (else they are read from the list). */
  products?: readonly string[];
  /** How many candidates name each of `products`, when the caller counted them. */
  productCounts?: readonly number[];
  /**
   * The same candidates by ascending license id, when the caller keeps them so and each id
   * is listed once (else undefined): a plan the quotas cannot bind reads these instead.
   */
  byLicenseId?: CandidatesByLicenseId;
}

/** A finding's candidates as parallel lists in ascending license id, each id once. */
export interface CandidatesByLicenseId {
  ids: readonly number[];
  expiresAt: readonly (number | null)[];
  /** Each candidate's product, as an index into `products`. */
  productIndex: readonly number[];
  /** The distinct products the candidates name. */
  products: readonly string[];
  /** How many candidates name each product: what the finding could take of its quota at most. */
  counts: readonly number[];
}

/**
 * Candidates by license id (each with its product), or undefined when an id is listed twice
 * (the planner then reads `candidates`, where the soonest expiry of the two decides).
 */
export function candidatesByLicenseId<C extends { licenseId: number; expiresAt: number | null }>(
  candidates: readonly C[],
  productOf: (candidate: C) => string,
): CandidatesByLicenseId | undefined {
  // Chains list their licenses in issue order: the ids are most often ascending already.
  let order = candidates;
  for (let i = 1; i < candidates.length; i++) {
    if (candidates[i - 1]!.licenseId < candidates[i]!.licenseId) continue;
    order = [...candidates].sort((a, b) => a.licenseId - b.licenseId);
    break;
  }
  const ids: number[] = [];
  const expiresAt: (number | null)[] = [];
  const productIndex: number[] = [];
  const tally = createProductTally();
  for (let i = 0; i < order.length; i++) {
    const c = order[i]!;
    if (i > 0 && order[i - 1]!.licenseId === c.licenseId) return undefined;
    ids.push(c.licenseId);
    expiresAt.push(c.expiresAt);
    productIndex.push(tally.add(productOf(c)));
  }
  return { ids, expiresAt, productIndex, products: tally.products, counts: tally.counts };
}

/** Products in the order first named, and how many candidates name each. */
export interface ProductTally {
  products: string[];
  counts: number[];
  /** Counts one candidate of `product`; its index in `products`. */
  add(product: string): number;
}

export function createProductTally(): ProductTally {
  const products: string[] = [];
  const counts: number[] = [];
  let last: string | undefined;
  let index = -1;
  return {
    products,
    counts,
    add(product) {
      // A finding's CALs come from a product or two: a search only when it changes.
      if (product !== last) {
        last = product;
        index = products.indexOf(product);
        if (index < 0) {
          index = products.push(product) - 1;
          counts.push(0);
        }
      }
      counts[index]!++;
      return index;
    },
  };
}

export interface ProductQuota {
  /** Installed per-device CALs of the version; null when no key pack inventory is known. */
  installed: number | null;
  /** Revoked CALs still holding quota: their original expiry (null = unknown). */
  revokedUntil: readonly (number | null)[];
  /** From event 81: how many the server says are revoked, and when it allows the next. */
  reportedRevoked: number | null;
  nextRevokeAllowedAt: number | null;
}

export interface PlanBatch {
  notBefore: number;
  licenseIds: number[];
}

export interface PlanInput {
  now: number;
  findings: readonly PlanFinding[];
  quotas: Readonly<Record<string, ProductQuota>>;
  capRatio: number;
  maxBatches: number;
  /** How long a CAL with unknown expiry is assumed to hold quota after it is revoked. */
  unknownExpiryMs: number;
  /** CALs never to plan (already revoked), whatever a finding still lists. */
  excluded?: ReadonlySet<number>;
}

export function revokeCap(installed: number | null, capRatio: number): number {
  if (installed === null || installed <= 0) return 1;
  return Math.max(1, Math.floor(capRatio * installed));
}

export interface RevokePlan {
  /** Each finding's batches (only findings with at least one scheduled CAL). */
  batches: Map<string, PlanBatch[]>;
  /** Revocations the quota still allows right now, per product, after the plan's first batch. */
  freeNow: Map<string, number>;
}

/** The CALs a plan has given out (or must not: `excluded`); one plan at a time, either way below. */
const plannedIds = new LicenseIdSet();

export function buildRevokePlan(input: PlanInput): RevokePlan {
  return planUnbound(input) ?? planInBatches(input);
}

const NO_QUOTA: ProductQuota = { installed: null, revokedUntil: [], reportedRevoked: null, nextRevokeAllowedAt: null };

/**
 * The plan when no quota binds: every product's free quota now holds every candidate the
 * findings name of it, so the batching below would put each CAL it deals into one batch
 * now. That plan is made here from the findings' candidates by license id, without dealing
 * them into queues in expiry order or sorting the batches: a server whose quota has room
 * replans its open findings' thousands of CALs every hour of event time, and this was most
 * of that. Null when a quota may bind, a finding lacks its candidates by license id, or the
 * server deferred revocations (event 81): the batching decides then. Same result, CAL for
 * CAL, batch for batch (revoke-plan.test.ts compares the two on random plans).
 */
function planUnbound(input: PlanInput): RevokePlan | null {
  const { now, findings } = input;
  // What each product could be asked for at most, from counts the caller kept where it did:
  // when a quota binds, the lists by license id are not made for nothing.
  const most = new Map<string, number>();
  for (const finding of findings) {
    let products = finding.products;
    let counts = finding.productCounts;
    if (products === undefined || counts === undefined) {
      const byId = finding.byLicenseId;
      if (byId === undefined) return null;
      products = byId.products;
      counts = byId.counts;
    }
    for (let k = 0; k < products.length; k++) most.set(products[k]!, (most.get(products[k]!) ?? 0) + counts[k]!);
  }
  const products = [...new Set([...most.keys(), ...Object.keys(input.quotas)])].sort();
  const rank = new Map<string, number>();
  const free = new Map<string, number>();
  const heldUntil = (expiresAt: number | null) => expiresAt ?? now + input.unknownExpiryMs;
  for (const product of products) {
    const quota = input.quotas[product] ?? NO_QUOTA;
    if (quota.nextRevokeAllowedAt !== null && quota.nextRevokeAllowedAt > now) return null;
    let held = 0;
    for (const until of quota.revokedUntil) if (heldUntil(until) > now) held++;
    const room = revokeCap(quota.installed, input.capRatio) - held;
    const wanted = most.get(product) ?? 0;
    if (wanted > 0 && wanted > room) return null;
    rank.set(product, rank.size);
    free.set(product, room);
  }

  // Each CAL once: the first finding (worst first) that lists it unexpired takes it.
  const assigned = plannedIds.clear(input.excluded);
  const taken = new Map<string, number>();
  const holding = new Map<string, number>();
  /** Findings with CALs, by the first product (in name order) they take: the batching's order. */
  const byRank: Array<Array<[string, PlanBatch[]]>> = products.map(() => []);
  const takenHere: number[] = [];
  const holdingHere: number[] = [];
  for (const finding of findings) {
    // Undefined for a finding that lists a license id twice (rare): the batching decides then.
    if (finding.byLicenseId === undefined) return null;
    const { ids, expiresAt, productIndex, products: named } = finding.byLicenseId;
    takenHere.length = 0;
    holdingHere.length = 0;
    for (let k = 0; k < named.length; k++) {
      takenHere.push(0);
      holdingHere.push(0);
    }
    let licenseIds: number[] | undefined;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (assigned.has(id)) continue;
      const until = expiresAt[i]!;
      if (until !== null && until <= now) continue;
      assigned.add(id);
      (licenseIds ??= []).push(id);
      const k = productIndex[i]!;
      takenHere[k]!++;
      // A planned CAL holds its slot until its expiry (one without: unknownExpiryMs from now).
      if (heldUntil(until) > now) holdingHere[k]!++;
    }
    if (licenseIds === undefined) continue;
    let first = Infinity;
    for (let k = 0; k < named.length; k++) {
      if (takenHere[k] === 0) continue;
      const product = named[k]!;
      taken.set(product, (taken.get(product) ?? 0) + takenHere[k]!);
      holding.set(product, (holding.get(product) ?? 0) + holdingHere[k]!);
      first = Math.min(first, rank.get(product)!);
    }
    byRank[first]!.push([finding.id, [{ notBefore: now, licenseIds }]]);
  }

  const batches = new Map<string, PlanBatch[]>();
  for (const list of byRank) for (const [id, planned] of list) batches.set(id, planned);
  const freeNow = new Map<string, number>();
  for (const product of products) {
    // A product named only by CALs already revoked, claimed or expired has no quota to plan.
    if (!Object.hasOwn(input.quotas, product) && !taken.has(product)) continue;
    freeNow.set(product, Math.max(0, free.get(product)! - (holding.get(product) ?? 0)));
  }
  return { batches, freeNow };
}

function planInBatches(input: PlanInput): RevokePlan {
  const { now } = input;
  const feed = createCandidateFeed(input.findings, input.excluded, now);
  const plan = new Map<string, Map<number, number[]>>();
  const freeNow = new Map<string, number>();
  for (const product of [...new Set([...feed.products(), ...Object.keys(input.quotas)])].sort()) {
    const queue = feed.queueOf(product);
    // A product named only by CALs already revoked, claimed or expired has no quota to plan.
    if (!Object.hasOwn(input.quotas, product) && !feed.has(queue, 0)) continue;
    const quota = input.quotas[product] ?? { installed: null, revokedUntil: [], reportedRevoked: null, nextRevokeAllowedAt: null };
    const cap = revokeCap(quota.installed, input.capRatio);
    const holdUntil = (expiresAt: number | null, from: number) => expiresAt ?? from + input.unknownExpiryMs;
    const used: number[] = quota.revokedUntil.map((u) => holdUntil(u, now)).filter((u) => u > now);
    let start = now;
    if (quota.nextRevokeAllowedAt !== null && quota.nextRevokeAllowedAt > now) {
      // The server refused a revoke: what it counts as revoked holds until it said.
      start = quota.nextRevokeAllowedAt;
      const missing = Math.max(0, (quota.reportedRevoked ?? cap) - used.length);
      for (let i = 0; i < missing; i++) used.push(quota.nextRevokeAllowedAt);
    }
    let t = start;
    let next = 0;
    for (let batches = 0; batches < input.maxBatches && feed.has(queue, next); ) {
      let free = cap - countAfter(used, t);
      const accepted: number[] = [];
      while (free > 0 && feed.has(queue, next)) {
        const i = next++;
        const candidate = queue.candidates[i]!;
        // It returns by itself before this batch: revoking gains nothing.
        if (candidate.expiresAt !== null && candidate.expiresAt <= t) continue;
        accepted.push(i);
        used.push(holdUntil(candidate.expiresAt, t));
        free--;
      }
      if (accepted.length > 0) {
        batches++;
        let lastId: string | undefined;
        let list: number[] = [];
        for (const i of accepted) {
          const findingId = queue.findingIds[i]!;
          // A finding's CALs are consecutive in the queue: one lookup per finding and batch.
          if (findingId !== lastId) {
            let byTime = plan.get(findingId);
            if (byTime === undefined) plan.set(findingId, (byTime = new Map()));
            const known = byTime.get(t);
            if (known === undefined) byTime.set(t, (list = []));
            else list = known;
            lastId = findingId;
          }
          list.push(queue.candidates[i]!.licenseId);
        }
      }
      // The next batch waits for the first revoked CAL to reach its original expiry.
      let release = Infinity;
      for (const u of used) if (u > t && u < release) release = u;
      if (release === Infinity) break;
      t = release;
    }
    freeNow.set(product, start > now ? 0 : Math.max(0, cap - countAfter(used, now)));
  }

  const result = new Map<string, PlanBatch[]>();
  for (const [findingId, byTime] of plan) {
    result.set(
      findingId,
      [...byTime].sort((a, b) => a[0] - b[0]).map(([notBefore, ids]) => ({ notBefore, licenseIds: sortAscendingInPlace(ids) })),
    );
  }
  return { batches: result, freeNow };
}

interface ProductQueue {
  findingIds: string[];
  candidates: PlanCandidate[];
}

/**
 * The findings' candidates in plan order (worst finding first, soonest expiry first; a CAL
 * once, never an excluded or expired one), dealt into one queue per product as the planner
 * asks for them. A plan takes what the quota allows within maxBatches, often a few CALs
 * out of the many thousands a server's open leaks hold: the rest is never read, so a
 * replan costs what it plans, not what is open.
 */
function createCandidateFeed(findings: readonly PlanFinding[], excluded: ReadonlySet<number> | undefined, now: number) {
  const assigned = plannedIds.clear(excluded);
  const queues = new Map<string, ProductQueue>();
  let findingAt = 0;
  let candidateAt = 0;
  let current: readonly PlanCandidate[] | null = null;

  function queueOf(product: string): ProductQueue {
    let queue = queues.get(product);
    if (queue === undefined) queues.set(product, (queue = { findingIds: [], candidates: [] }));
    return queue;
  }

  /** Deals candidates until `wanted` grows by one; false when every finding is read. */
  function dealUntil(wanted: ProductQueue): boolean {
    const before = wanted.candidates.length;
    while (findingAt < findings.length) {
      const finding = findings[findingAt]!;
      // Soonest expiry first: every quota slot-day turns into a CAL-day returned early whatever
      // the order, and this order frees slots soonest, so fewer CALs expire unplanned.
      current ??= isOrdered(finding.candidates) ? finding.candidates : [...finding.candidates].sort(bySoonestExpiry);
      while (candidateAt < current.length) {
        const candidate = current[candidateAt++]!;
        if (assigned.has(candidate.licenseId)) continue;
        if (candidate.expiresAt !== null && candidate.expiresAt <= now) continue;
        assigned.add(candidate.licenseId);
        const queue = queueOf(candidate.product);
        queue.findingIds.push(finding.id);
        queue.candidates.push(candidate);
        if (queue === wanted) return true;
      }
      findingAt++;
      candidateAt = 0;
      current = null;
    }
    return wanted.candidates.length > before;
  }

  return {
    /** Every product a finding's candidate names (a finding tells them, or they are read once). */
    products(): Set<string> {
      const products = new Set<string>();
      for (const finding of findings) {
        if (finding.products !== undefined) for (const p of finding.products) products.add(p);
        else for (const c of finding.candidates) products.add(c.product);
      }
      return products;
    },
    queueOf,
    /** The queue has a candidate at `index`, dealing more when it has not yet. */
    has(queue: ProductQueue, index: number): boolean {
      return index < queue.candidates.length || dealUntil(queue);
    },
  };
}

function bySoonestExpiry(a: PlanCandidate, b: PlanCandidate): number {
  return (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity) || a.licenseId - b.licenseId;
}

/** Callers that cache their candidates sorted spare the copy and the sort on every plan. */
function isOrdered(candidates: readonly PlanCandidate[]): boolean {
  for (let i = 1; i < candidates.length; i++) if (bySoonestExpiry(candidates[i - 1]!, candidates[i]!) > 0) return false;
  return true;
}

function countAfter(times: readonly number[], t: number): number {
  let n = 0;
  for (const u of times) if (u > t) n++;
  return n;
}

