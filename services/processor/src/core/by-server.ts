import { z } from 'zod';
import { type EnrichedEvent, Finding, type KeyPackInventory, type ServiceEvent, buildRevocationKey, kafkaKeyOf } from '@calwatch/model';
import type { CoreConfig } from './config';
import { CORE_ERRORS } from './errors';
import { FindingTrack, advanceTrack, buildFindingId, holdEndsAt, sameCandidates, type Evidence } from './finding-track';
import { sameIds, uniqueSorted } from './chain';
import { isPermanent } from './license-record';
import { type ByServerMessage, FindingDraft, type LicenseFactMessage, type StageOutput, type StageOptions, type StageResult } from './messages';
import { KeyPackState, type PoolInventory, ProductState, addToDay, emptyProduct, inventoryOf, pruneDays } from './pool';
import { type PoolExhaustionView, assessPool, derivePoolExhaustion, resolvePoolExhaustion } from './rules/pool-exhaustion';
import { type LeakRateSpikeView, deriveLeakRateSpike, resolveLeakRateSpike, spikeClearsAt } from './rules/leak-rate-spike';
import { isPerDevicePool, productKeyOf } from './products';
import {
  type CandidatesByLicenseId,
  type PlanBatch,
  type PlanCandidate,
  type PlanFinding,
  type ProductQuota,
  type RevokePlan,
  buildRevokePlan,
  candidatesByLicenseId,
  createProductTally,
} from './rules/revoke-plan';
import { buildEnrichedContext } from './enriched-context';
import { buildPublishedFinding } from './published-finding';
import { diffRevocations } from './revocation-diff';
import { severityRank } from './severity';
import { type Decoded, decodeState } from './state-codec';
import { DAY_MS, daysToMs, toIso, toMs } from './time';

type KeyPackInventoryEvent = z.infer<typeof KeyPackInventory>;
type ServiceEventEvent = z.infer<typeof ServiceEvent>;

const LEAK_KINDS: ReadonlySet<string> = new Set(['cloned-image', 'hwid-churn', 'rebuilt-device', 'corrupted-store']);

/**
 * Stage `by-server`, keyed by license server. Knows the pool per CAL version (key packs,
 * events 20/21/22/81, issuance), the revoked CALs still holding revocation quota, and
 * every open finding of the server. Detects pool exhaustion, plans revocations across all
 * open leak findings, and emits the final finding updates (the only ones published).
 */
export const ByServerState = z.object({
  v: z.literal(1),
  server: z.string(),
  clock: z.number(),
  keyPacks: z.record(z.string(), KeyPackState),
  products: z.record(z.string(), ProductState),
  /** Revoked CALs by license instance, until their original expiry. */
  revoked: z.record(
    z.string(),
    z.object({ licenseId: z.number().int(), keyPackId: z.number().int(), at: z.number(), until: z.number().nullable() }),
  ),
  /** Open findings: the owner's latest draft and the revoke batches last published with it. */
  open: z.record(
    z.string(),
    z.object({ draft: FindingDraft, batches: z.array(z.object({ notBefore: z.number(), licenseIds: z.array(z.number().int()) })) }),
  ),
  /** Last revision published per finding id, kept after resolution so a reopen continues it. */
  revisions: z.record(z.string(), z.object({ revision: z.number().int(), resolvedAt: z.number().nullable() })),
  /** Pool-exhaustion findings, one per product. */
  poolTracks: z.record(z.string(), FindingTrack),
  /** Leak-rate-spike findings, one per product (absent in state from before the rule: none). */
  spikeTracks: z.record(z.string(), FindingTrack).default({}),
  /** The open plans went out as revocation records; absent in state from before that topic existed. */
  revocationsOut: z.literal(true).optional(),
  /** Event time of the last housekeeping pass (expired quota, old revisions, old rates). */
  prunedAt: z.number(),
  /** When the revoke plan was last rebuilt, and whether its inputs changed since. */
  plan: z.object({
    at: z.number().nullable(),
    dirty: z.boolean(),
    /** Revocations the quota allowed at `at` beyond the plan, per product, for provisional batches. */
    freeNow: z.record(z.string(), z.number().int()),
    /** Which finding each planned CAL belongs to (licenseId -> finding id). */
    claims: z.record(z.string(), z.string()),
  }),
});
export type ByServerState = z.infer<typeof ByServerState>;

export interface ByServerStage {
  process(key: string, message: ByServerMessage, state: ByServerState | undefined): StageResult<ByServerState | undefined>;
  dueAt(state: ByServerState): number | null;
}

export function createByServerStage(config: CoreConfig, options: StageOptions = {}): ByServerStage {
  const enriched = options.enriched ?? true;
  const unknownExpiryMs = daysToMs(config.lifecycle.permanentMaxDays);
  const refreshMs = daysToMs(config.emit.refreshDays);
  const severityHoldMs = daysToMs(config.severity.holdDays);
  const replanMs = Math.round(config.revoke.replanMinutes * 60_000);
  const revisionRetentionMs = daysToMs(Math.max(365, config.state.retentionDays));

  /** A product's pool as the key pack table shows it, memoised per table (pool checks run per issuance). */
  const pools = new WeakMap<object, Map<string, { inventory: PoolInventory; keyPackIds: number[] }>>();

  function poolOf(state: ByServerState, p: string): { inventory: PoolInventory; keyPackIds: number[] } {
    let memo = pools.get(state.keyPacks);
    if (memo === undefined) pools.set(state.keyPacks, (memo = new Map()));
    let pool = memo.get(p);
    if (pool === undefined) {
      const keyPackIds = Object.entries(state.keyPacks)
        .filter(([, kp]) => kp.product === p && kp.perDevice)
        .map(([id]) => Number(id))
        .sort((a, b) => a - b);
      memo.set(p, (pool = { inventory: inventoryOf(Object.values(state.keyPacks), p), keyPackIds }));
    }
    return pool;
  }

  function inventoryFor(state: ByServerState, p: string): PoolInventory {
    return poolOf(state, p).inventory;
  }

  /** Products by key pack id, per key pack table (replaced, never changed in place). */
  const productMemo = new WeakMap<object, Map<number, string>>();

  function productOfKeyPack(state: Pick<ByServerState, 'keyPacks'>, keyPackId: number): string {
    let memo = productMemo.get(state.keyPacks);
    if (memo === undefined) productMemo.set(state.keyPacks, (memo = new Map()));
    let p = memo.get(keyPackId);
    if (p === undefined) memo.set(keyPackId, (p = state.keyPacks[String(keyPackId)]?.product ?? soleProduct(state) ?? 'unknown'));
    return p;
  }

  /** With a single per-device product on the server, unattributed facts belong to it. */
  function soleProduct(state: Pick<ByServerState, 'keyPacks'>): string | undefined {
    const products = new Set(Object.values(state.keyPacks).filter((k) => k.perDevice).map((k) => k.product));
    return products.size === 1 ? [...products][0] : undefined;
  }

  function product(state: ByServerState, key: string, display?: string): ProductState {
    let p = state.products[key];
    if (p === undefined) state.products[key] = p = emptyProduct(display ?? (key === 'unknown' ? 'unknown product' : `Windows Server ${key}`));
    else if (display !== undefined && p.display !== display && display.length > 0) p.display = display;
    return p;
  }

  function displayOf(state: ByServerState, keyPackIds: readonly number[]): string | null {
    const names = new Set<string>();
    for (const id of keyPackIds) {
      const kp = state.keyPacks[String(id)];
      if (kp !== undefined && kp.perDevice) names.add(kp.productVersion);
    }
    if (names.size === 0) {
      for (const id of keyPackIds) {
        const kp = state.keyPacks[String(id)];
        if (kp !== undefined) names.add(kp.productVersion);
      }
    }
    return names.size === 0 ? null : [...names].sort().join(' + ');
  }

  // ---- findings: assembly, plan, publication ----

  function quotas(state: ByServerState): Record<string, ProductQuota> {
    const result: Record<string, ProductQuota> = {};
    const get = (p: string): ProductQuota => {
      let q = result[p];
      if (q === undefined) {
        const inv = inventoryFor(state, p);
        const limit = state.products[p]?.revokeLimit ?? null;
        result[p] = q = {
          installed: inv.known ? inv.installed : (limit?.installedCount ?? null),
          revokedUntil: [],
          reportedRevoked: limit?.revokedCount ?? null,
          nextRevokeAllowedAt: limit?.nextAllowedAt ?? null,
        };
      }
      return q;
    };
    for (const p of Object.keys(state.products)) get(p);
    for (const r of Object.values(state.revoked)) {
      (get(productOfKeyPack(state, r.keyPackId)).revokedUntil as number[]).push(r.until ?? r.at + unknownExpiryMs);
    }
    return result;
  }

  /**
   * A leak draft as the planner reads it: its order key, its products and its candidates with
   * their product, soonest expiry first. Drafts are never changed once made, so this is cached
   * per draft, and per key pack table (replaced, never changed, when a key pack moves),
   * since that decides the products. A replan then reads what is cached for every finding
   * that did not change since the last one. The sorted candidates are made when the planner
   * first reads them: a plan takes what the quota allows, often from the first findings only.
   */
  interface PlanEntry {
    rank: number;
    firstSeen: number;
    id: string;
    finding: PlanFinding;
  }
  const planEntries = new WeakMap<object, WeakMap<FindingDraft, PlanEntry>>();
  /** The last plan's findings in order, per server: nearly sorted input makes the next sort cheap. */
  const lastOrder = new Map<string, PlanEntry[]>();

  /** A candidate's product, looked up once per run of the same key pack (a finding's CALs come from one or two). */
  function productByKeyPackRun(table: Pick<ByServerState, 'keyPacks'>): (candidate: { keyPackId: number }) => string {
    let keyPackId: number | undefined;
    let product = '';
    return (candidate) => {
      if (candidate.keyPackId !== keyPackId) product = productOfKeyPack(table, (keyPackId = candidate.keyPackId));
      return product;
    };
  }

  function planEntryOf(state: ByServerState, draft: FindingDraft): PlanEntry {
    let entries = planEntries.get(state.keyPacks);
    if (entries === undefined) planEntries.set(state.keyPacks, (entries = new WeakMap()));
    let entry = entries.get(draft);
    if (entry === undefined) {
      const table = { keyPacks: state.keyPacks };
      const productOf = productByKeyPackRun(table);
      const tally = createProductTally();
      for (const c of draft.candidates) tally.add(productOf(c));
      let candidates: PlanCandidate[] | undefined;
      let byLicenseId: CandidatesByLicenseId | undefined | null = null;
      entry = {
        rank: severityRank(draft.severity) * 1e9 + draft.candidates.length,
        firstSeen: draft.firstSeen,
        id: draft.id,
        finding: {
          id: draft.id,
          products: tally.products,
          productCounts: tally.counts,
          get candidates() {
            return (candidates ??= draft.candidates
              .map((c) => ({ licenseId: c.licenseId, product: productOfKeyPack(table, c.keyPackId), expiresAt: c.expiresAt }))
              .sort(bySoonestExpiry));
          },
          get byLicenseId() {
            if (byLicenseId === null) byLicenseId = candidatesByLicenseId(draft.candidates, productByKeyPackRun(table));
            return byLicenseId;
          },
        },
      };
      entries.set(draft, entry);
    }
    return entry;
  }

  function plan(state: ByServerState): RevokePlan {
    const current = new Map<string, PlanEntry>();
    for (const id in state.open) {
      const d = state.open[id]!.draft;
      if (LEAK_KINDS.has(d.kind) && d.candidates.length > 0) current.set(id, planEntryOf(state, d));
    }
    const leaks: PlanEntry[] = [];
    for (const e of lastOrder.get(state.server) ?? []) {
      if (current.get(e.id) === e) {
        leaks.push(e);
        current.delete(e.id);
      }
    }
    for (const e of current.values()) leaks.push(e);
    leaks.sort(worstEntryFirst);
    lastOrder.set(state.server, leaks);
    return buildRevokePlan({
      now: state.clock,
      findings: leaks.map((e) => e.finding),
      excluded: revokedIds(state),
      quotas: quotas(state),
      capRatio: config.lifecycle.revokeCapRatio,
      maxBatches: config.revoke.maxBatches,
      unknownExpiryMs,
    });
  }

  /**
   * CALs seen revoked: never planned again, even while a draft still names them (a leak's
   * list of reclaimable CALs may lag a few changes behind, see emit.candidateGrowth).
   */
  function revokedIds(state: ByServerState): Set<number> {
    const ids = new Set<number>();
    for (const key in state.revoked) ids.add(state.revoked[key]!.licenseId);
    return ids;
  }

  /** The published form of a draft; `publish` sets the revision. */
  function assemble(state: ByServerState, draft: FindingDraft, batches: readonly PlanBatch[]): Finding {
    const open = draft.state === 'open';
    let keyPackOf: Map<number, number> | undefined;
    return buildPublishedFinding({
      draft,
      productVersion:
        draft.kind === 'pool-exhaustion' || draft.kind === 'leak-rate-spike'
          ? (state.products[trackProductOf(state, draft)]?.display ?? null)
          : displayOf(state, draft.keyPackIds),
      reclaimable: open ? draft.candidates.map((c) => c.licenseId) : [],
      batches: open ? batches : [],
      productOf(ids) {
        keyPackOf ??= new Map(draft.candidates.map((c) => [c.licenseId, c.keyPackId]));
        const keyPackIds = new Set<number>();
        for (const id of ids) {
          const keyPackId = keyPackOf.get(id);
          if (keyPackId !== undefined) keyPackIds.add(keyPackId);
        }
        return displayOf(state, [...keyPackIds].sort((a, b) => a - b));
      },
      updatedAt: Math.max(state.clock, draft.at),
    });
  }

  /** State from before the revocations topic: every open plan goes out once, whole. */
  function announcePlans(state: ByServerState, outputs: StageOutput[]): void {
    for (const entry of Object.values(state.open)) reviseRevocations(state, entry.draft, [], entry.batches, outputs);
    state.revocationsOut = true;
  }

  /** One revocation record per license whose place in the plan changed (see diffRevocations). */
  function reviseRevocations(state: ByServerState, draft: FindingDraft, previous: readonly PlanBatch[], next: readonly PlanBatch[], outputs: StageOutput[]): void {
    if (previous.length === 0 && next.length === 0) return;
    const revocations = diffRevocations({
      draft,
      previous,
      next,
      clock: state.clock,
      ownerOf(licenseId) {
        return state.plan.claims[licenseId];
      },
      productVersionOf(keyPackId) {
        return state.keyPacks[String(keyPackId)]?.productVersion ?? null;
      },
    });
    for (const r of revocations) outputs.push({ topic: 'revocations', key: buildRevocationKey(r.licenseServer, r.licenseId), message: r });
  }

  /** The product of a per-product finding (pool exhaustion, leak-rate spike). */
  function trackProductOf(state: ByServerState, draft: FindingDraft): string {
    const tracks = draft.kind === 'leak-rate-spike' ? state.spikeTracks : state.poolTracks;
    for (const [p, track] of Object.entries(tracks)) if (track.id === draft.id) return p;
    return 'unknown';
  }

  /** Publishes an update (owners send drafts only on change; re-plans compare plans first). */
  function publish(state: ByServerState, id: string, candidate: Finding, outputs: StageOutput[]): void {
    const revision = (state.revisions[id]?.revision ?? 0) + 1;
    const finding = { ...candidate, revision };
    state.revisions[id] = { revision, resolvedAt: finding.state === 'resolved' ? state.clock : null };
    outputs.push({ topic: 'findings', key: id, message: finding });
  }

  /** Applies a draft (from an owner stage or the pool assessment) and republishes what changed. */
  function applyDraft(state: ByServerState, draft: FindingDraft, outputs: StageOutput[]): void {
    const before = state.open[draft.id]?.draft;
    const isLeak = LEAK_KINDS.has(draft.kind);
    if (draft.state === 'resolved') {
      if (before === undefined) return;
      publish(state, draft.id, assemble(state, draft, []), outputs);
      reviseRevocations(state, draft, state.open[draft.id]!.batches, [], outputs);
      for (const b of state.open[draft.id]!.batches) for (const l of b.licenseIds) if (state.plan.claims[l] === draft.id) delete state.plan.claims[l];
      delete state.open[draft.id];
      if (isLeak && before !== undefined && before.candidates.length > 0) requestPlan(state, outputs, null);
      return;
    }
    // Entries are replaced, never changed in place: the changelog skips an entry that is the same object.
    const entry = { draft, batches: state.open[draft.id]?.batches ?? [] };
    state.open[draft.id] = entry;
    const candidatesChanged = before === undefined || !sameCandidates(before.candidates, draft.candidates);
    if (isLeak && candidatesChanged) {
      requestPlan(state, outputs, draft.id);
    } else {
      publish(state, draft.id, assemble(state, draft, entry.batches), outputs);
    }
  }

  /**
   * Plans are rebuilt at most once per replan interval of event time (a bulk load brings
   * thousands of drafts); in between, a changed finding keeps the batches it had for the
   * CALs it still holds, gets new CALs planned now while the last plan left quota free, and
   * otherwise waits for the next plan, which a timer guarantees.
   */
  function requestPlan(state: ByServerState, outputs: StageOutput[], changedId: string | null): void {
    state.plan.dirty = true;
    if (state.plan.at === null || state.clock - state.plan.at >= replanMs) {
      replan(state, outputs, changedId);
      return;
    }
    if (changedId === null) return;
    const entry = state.open[changedId]!;
    // One pass over the batches: keep the CALs still held, release the claims of the others.
    // (A finding without batches, the usual one between plans, needs none of it.)
    const still = new Set<number>();
    if (entry.batches.length > 0) for (const c of entry.draft.candidates) still.add(c.licenseId);
    const claims = state.plan.claims;
    const planned = new Set<number>();
    const batches: PlanBatch[] = [];
    for (const b of entry.batches) {
      const kept: number[] = [];
      for (const l of b.licenseIds) {
        if (still.has(l)) {
          kept.push(l);
          planned.add(l);
        } else if (claims[l] === changedId) {
          delete claims[l];
        }
      }
      if (kept.length > 0) batches.push({ notBefore: b.notBefore, licenseIds: kept });
    }
    // New CALs go in a batch now while the last plan left quota free and no other finding
    // has them planned; the rest wait for the next plan.
    // With no quota left anywhere none can be taken: skip listing and sorting what would all wait.
    const revoked = hasFreeQuota(state.plan.freeNow) ? revokedIds(state) : undefined;
    const fresh =
      revoked === undefined
        ? []
        : entry.draft.candidates.filter(
            (c) => !planned.has(c.licenseId) && !revoked.has(c.licenseId) && (c.expiresAt === null || c.expiresAt > state.clock),
          );
    if (fresh.length > 0) {
      const now: number[] = [];
      for (const c of fresh.sort(bySoonestExpiry)) {
        const p = productOfKeyPack(state, c.keyPackId);
        const free = state.plan.freeNow[p] ?? 0;
        const owner = claims[c.licenseId];
        if (free <= 0 || (owner !== undefined && owner !== changedId)) continue;
        claims[c.licenseId] = changedId;
        state.plan.freeNow[p] = free - 1;
        now.push(c.licenseId);
      }
      if (now.length > 0) {
        const due = batches.find((b) => b.notBefore <= state.clock);
        if (due !== undefined) due.licenseIds = [...due.licenseIds, ...now].sort((a, b) => a - b);
        else batches.unshift({ notBefore: state.clock, licenseIds: now.sort((a, b) => a - b) });
      }
    }
    reviseRevocations(state, entry.draft, entry.batches, batches, outputs);
    state.open[changedId] = { draft: entry.draft, batches };
    publish(state, changedId, assemble(state, entry.draft, batches), outputs);
  }

  /** Re-plans every open leak finding and republishes those whose plan (or draft) changed. */
  function replan(state: ByServerState, outputs: StageOutput[], changedId: string | null): void {
    const { batches, freeNow } = plan(state);
    const claims = state.plan.claims;
    reclaim(state, claims, batches);
    state.plan = { at: state.clock, dirty: false, freeNow: Object.fromEntries(freeNow), claims };
    // Object key order is insertion order, and survives a JSON round trip: deterministic.
    // A server may hold thousands of open findings and replans once an hour of event time:
    // most had no batch and get none, which is decided without a lookup in the plan.
    for (const id in state.open) {
      const entry = state.open[id]!;
      if (entry.batches.length === 0 && id !== changedId && !batches.has(id)) continue;
      if (!LEAK_KINDS.has(entry.draft.kind)) continue;
      const next = batches.get(id) ?? [];
      if (id !== changedId && samePlan(entry.batches, next, state.clock)) continue;
      reviseRevocations(state, entry.draft, entry.batches, next, outputs);
      state.open[id] = { draft: entry.draft, batches: next };
      publish(state, id, assemble(state, entry.draft, next), outputs);
    }
    refreshPools(state, outputs, []);
  }

  /**
   * Makes `claims` (the plan's CALs by finding, licenseId -> finding id) name the CALs of the
   * new plan. They name those of the open findings' batches (every change of a finding's
   * batches changes its claims with it), and the plan gives a CAL to one finding at most: so
   * only the CALs of a finding whose batches changed are edited, those it lost and those it
   * gained. Rebuilt whole, the claims were a tenth of a long chain's core: an object keyed by
   * thousands of license ids is a dictionary, and every key written costs a hash insertion.
   * When no finding's CALs moved (often: the quota is spent and new CALs wait) nothing is read
   * beyond the batches.
   */
  function reclaim(state: ByServerState, claims: Record<string, string>, batches: ReadonlyMap<string, readonly PlanBatch[]>): void {
    const gained: Array<[string, number[]]> = [];
    for (const id in state.open) {
      const before = state.open[id]!.batches;
      const after = batches.get(id) ?? NO_BATCHES;
      // Batches equal at either end hold the same CALs before and after (a CAL is in one batch
      // of a finding): only those between are compared, often the last batch or two.
      let first = 0;
      while (first < before.length && first < after.length && sameIds(before[first]!.licenseIds, after[first]!.licenseIds)) first++;
      let endBefore = before.length;
      let endAfter = after.length;
      while (endBefore > first && endAfter > first && sameIds(before[endBefore - 1]!.licenseIds, after[endAfter - 1]!.licenseIds)) {
        endBefore--;
        endAfter--;
      }
      if (first === endBefore && first === endAfter) continue;
      const kept = new Set<number>();
      for (let i = first; i < endAfter; i++) for (const l of after[i]!.licenseIds) kept.add(l);
      const had = new Set<number>();
      for (let i = first; i < endBefore; i++) {
        for (const l of before[i]!.licenseIds) {
          had.add(l);
          if (!kept.has(l) && claims[l] === id) delete claims[l];
        }
      }
      const joined: number[] = [];
      for (const l of kept) if (!had.has(l)) joined.push(l);
      if (joined.length > 0) gained.push([id, joined]);
    }
    // After every loss: a CAL that moved from one finding to another ends with the one it went to.
    for (const [id, joined] of gained) for (const l of joined) claims[l] = id;
  }

  function samePlan(a: readonly PlanBatch[], b: readonly PlanBatch[], clock: number): boolean {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) {
      const batch = a[i]!;
      const other = b[i]!;
      // Batches already due compare equal whatever instant they were planned for.
      const due = batch.notBefore <= clock ? other.notBefore <= clock : batch.notBefore === other.notBefore;
      if (!due || !sameIds(batch.licenseIds, other.licenseIds)) return false;
    }
    return true;
  }

  // ---- pool exhaustion ----

  function refreshPools(state: ByServerState, outputs: StageOutput[], evidence: readonly Evidence[], only?: string, flush = false): void {
    const products = only !== undefined ? [only] : Object.keys(state.products).sort();
    for (const p of products) {
      const productState = state.products[p];
      if (productState === undefined) continue;
      const track = state.poolTracks[p];
      // Most issuances leave a pool with room and no finding: decided before a view is built.
      if (track === undefined && !assessPool(productState, inventoryFor(state, p), state.clock, config).open) continue;
      const view: PoolExhaustionView = {
        server: state.server,
        product: productState,
        inventory: inventoryFor(state, p),
        keyPackIds: poolOf(state, p).keyPackIds,
        clock: state.clock,
        evidence,
        reclaimable() {
          return reclaimableFor(state, p);
        },
      };
      const derived = derivePoolExhaustion(view, config);
      if (track === undefined && derived === null) continue;
      const id = track?.id ?? buildFindingId('pool-exhaustion', state.server, p);
      const result = advanceTrack({
        track,
        id,
        kind: 'pool-exhaustion',
        licenseServer: state.server,
        derived,
        evidence,
        at: state.clock,
        timelineMax: config.state.timelineMax,
        refreshMs,
        severityHoldMs,
        flush,
        resolution() {
          return resolvePoolExhaustion(view);
        },
      });
      if (result.track !== undefined) state.poolTracks[p] = result.track;
      const draft = result.draft;
      if (draft !== null) {
        if (draft.state === 'resolved') {
          publish(state, id, assemble(state, draft, []), outputs);
          delete state.open[id];
        } else {
          state.open[id] = { draft, batches: state.open[id]?.batches ?? [] };
          publish(state, id, assemble(state, draft, []), outputs);
        }
      }
    }
  }

  // ---- leak-rate spikes ----

  function spikeViewOf(state: ByServerState, p: string, productState: ProductState): LeakRateSpikeView {
    return {
      server: state.server,
      display: productState.display,
      issues: productState.permanentIssues,
      observedSinceDay: productState.issuesSinceDay ?? null,
      clock: state.clock,
    };
  }

  function refreshSpikes(state: ByServerState, outputs: StageOutput[], only?: string, flush = false): void {
    const products = only !== undefined ? [only] : Object.keys(state.products).sort();
    for (const p of products) {
      const productState = state.products[p];
      if (productState === undefined) continue;
      const view = spikeViewOf(state, p, productState);
      const derived = deriveLeakRateSpike(view, config);
      const track = state.spikeTracks[p];
      if (track === undefined && derived === null) continue;
      if (track !== undefined && track.state !== 'open' && derived === null) continue;
      const id = track?.id ?? buildFindingId('leak-rate-spike', state.server, p);
      const result = advanceTrack({
        track,
        id,
        kind: 'leak-rate-spike',
        licenseServer: state.server,
        derived,
        evidence: [],
        at: state.clock,
        timelineMax: config.state.timelineMax,
        refreshMs,
        severityHoldMs,
        flush,
        resolution() {
          return resolveLeakRateSpike(view, config);
        },
      });
      if (result.track !== undefined) state.spikeTracks = { ...state.spikeTracks, [p]: result.track };
      const draft = result.draft;
      if (draft === null) continue;
      // The product's key packs name it in the finding; a spike holds no CALs to plan.
      const named: FindingDraft = { ...draft, keyPackIds: poolOf(state, p).keyPackIds };
      publish(state, id, assemble(state, named, []), outputs);
      if (draft.state === 'resolved') delete state.open[id];
      else state.open[id] = { draft: named, batches: [] };
    }
  }

  function reclaimableFor(state: ByServerState, product: string): { cals: number; findings: number } {
    const ids = new Set<number>();
    let findings = 0;
    for (const { draft } of Object.values(state.open)) {
      if (!LEAK_KINDS.has(draft.kind)) continue;
      const mine = draft.candidates.filter((c) => productOfKeyPack(state, c.keyPackId) === product);
      if (mine.length > 0) findings++;
      for (const c of mine) ids.add(c.licenseId);
    }
    return { cals: ids.size, findings };
  }

  // ---- inputs ----

  function onLicenseFact(state: ByServerState, fact: LicenseFactMessage, outputs: StageOutput[]): void {
    const p = productOfKeyPack(state, fact.keyPackId);
    const productState = product(state, p);
    const becamePermanent =
      (fact.eventType === 'license.issued' && isPermanent(fact.status)) ||
      (fact.eventType === 'license.upgraded' && isPermanent(fact.status) && (fact.previousStatus === null || !isPermanent(fact.previousStatus)));
    const evidence: Evidence[] = [];
    if (becamePermanent) {
      addToDay(productState.permanentIssues, fact.at);
      const day = Math.floor(fact.at / DAY_MS);
      if (productState.issuesSinceDay === undefined || day < productState.issuesSinceDay) productState.issuesSinceDay = day;
    }
    if (fact.eventType === 'license.issued' && fact.status === 'temporary') {
      const assessment = assessPool(productState, inventoryFor(state, p), state.clock, config);
      if (assessment.empty) {
        addToDay(productState.temporariesWhileEmpty, fact.at);
        evidence.push({ at: fact.at, eventId: fact.eventId, note: `temporary CAL ${fact.licenseId} issued while the pool is empty` });
      }
    }
    let quotaChanged = false;
    if (fact.eventType === 'license.revoked' || (fact.eventType === 'license.returned' && fact.status === 'revoked')) {
      const key = `${fact.licenseId}|${fact.issuedAt}`;
      if (state.revoked[key] === undefined) {
        state.revoked[key] = { licenseId: fact.licenseId, keyPackId: fact.keyPackId, at: fact.at, until: fact.expiresAt };
        quotaChanged = true;
      }
    }
    if (quotaChanged) requestPlan(state, outputs, null);
    else if (becamePermanent || evidence.length > 0 || state.poolTracks[p]?.state === 'open') refreshPools(state, outputs, evidence, p);
    if (becamePermanent || state.spikeTracks[p]?.state === 'open') refreshSpikes(state, outputs, p);
  }

  function onKeyPack(state: ByServerState, event: KeyPackInventoryEvent, outputs: StageOutput[]): void {
    const kp = event.keyPack;
    const at = toMs(event.eventTime);
    const key = String(kp.keyPackId);
    const previous = state.keyPacks[key];
    if (previous !== undefined && previous.at > at) return;
    const p = productKeyOf(kp.productVersion);
    const perDevice = isPerDevicePool(kp);
    // Replaced, never changed in place: cached plan inputs are keyed by this table.
    state.keyPacks = { ...state.keyPacks };
    state.keyPacks[key] = {
      product: p,
      productVersion: kp.productVersion,
      perDevice,
      total: kp.totalLicenses,
      available: kp.availableLicenses,
      issued: kp.issuedLicenses,
      at,
    };
    product(state, p, perDevice ? kp.productVersion : undefined);
    const evidence: Evidence[] = [
      { at, eventId: event.eventId, note: `key pack ${kp.keyPackId} (${kp.productVersion}): ${kp.availableLicenses} of ${kp.totalLicenses} available` },
    ];
    const capChanged = previous === undefined || previous.total !== kp.totalLicenses || previous.product !== p;
    // Pool first, with the evidence; the re-plan then only republishes what its caps changed.
    if (perDevice) refreshPools(state, outputs, evidence, p);
    if (capChanged) requestPlan(state, outputs, null);
  }

  function onServiceEvent(state: ByServerState, event: ServiceEventEvent, outputs: StageOutput[]): string | null {
    const fact = event.event;
    const at = toMs(event.eventTime);
    const p = fact.product !== null ? productKeyOf(fact.product) : (soleProduct(state) ?? 'unknown');
    const evidence: Evidence[] = [{ at, eventId: event.eventId, note: `event ${fact.code} (${fact.meaning})` }];
    const later = (current: { at: number } | null) => current === null || at >= current.at;
    switch (fact.meaning) {
      case 'pool-low': {
        const ps = product(state, p);
        if (later(ps.low)) ps.low = { at, remaining: fact.remainingCals, eventId: event.eventId };
        break;
      }
      case 'pool-exhausted': {
        const ps = product(state, p);
        if (later(ps.exhausted)) ps.exhausted = { at, eventId: event.eventId };
        break;
      }
      case 'no-cals-installed': {
        const ps = product(state, p);
        if (later(ps.noneInstalled)) ps.noneInstalled = { at, eventId: event.eventId };
        break;
      }
      case 'revocation-limit-reached': {
        const ps = product(state, p);
        if (later(ps.revokeLimit)) {
          ps.revokeLimit = {
            at,
            revokedCount: fact.revokedCount,
            installedCount: fact.installedCount,
            nextAllowedAt: fact.nextRevokeAllowedAt === null ? null : toMs(fact.nextRevokeAllowedAt),
          };
          requestPlan(state, outputs, null);
        }
        return p;
      }
      default:
        return state.products[p] === undefined ? null : p;
    }
    refreshPools(state, outputs, evidence, p);
    return p;
  }

  function enrich(state: ByServerState, event: EnrichedEvent['event'], p: string | null, outputs: StageOutput[]): void {
    if (!enriched) return;
    const track = p === null ? undefined : state.poolTracks[p];
    const open = track?.state === 'open';
    outputs.push({
      topic: 'enriched',
      key: kafkaKeyOf(event),
      message: {
        schemaVersion: 2,
        event,
        context: buildEnrichedContext({
          hwidLicenseIds: [],
          hwidComputers: [],
          computerHwids: [],
          classification: open ? 'pool-exhaustion' : 'healthy',
          findingIds: open ? [track.id] : [],
        }),
      },
    });
  }

  function prune(state: ByServerState): void {
    for (const [key, r] of Object.entries(state.revoked)) {
      const until = r.until ?? r.at + unknownExpiryMs;
      if (until <= state.clock) delete state.revoked[key];
    }
    for (const [id, r] of Object.entries(state.revisions)) {
      if (r.resolvedAt !== null && state.clock - r.resolvedAt > revisionRetentionMs && state.open[id] === undefined) delete state.revisions[id];
    }
    const horizon = state.clock - daysToMs(Math.max(config.pool.rateWindowDays, config.pool.temporaryWindowDays));
    // A spike's baseline reaches further back than the pool's rate window.
    const issueHorizon = Math.min(horizon, state.clock - daysToMs(config.spike.baselineDays + config.spike.clearDays + 1));
    for (const ps of Object.values(state.products)) {
      pruneDays(ps.permanentIssues, issueHorizon);
      pruneDays(ps.temporariesWhileEmpty, horizon);
    }
  }

  return {
    process(key, message, current) {
      const outputs: StageOutput[] = [];
      const at = message.type === 'tick' || message.type === 'license-fact' || message.type === 'finding-draft' ? message.at : toMs(message.eventTime);
      if (message.type !== 'tick' && message.type !== 'license-fact' && message.type !== 'finding-draft' && message.licenseServer !== key) {
        throw CORE_ERRORS.create('PROCESSOR_KEY_MISMATCH', `event of ${message.licenseServer} routed to key ${key}`, {
          context: { key, server: message.licenseServer },
        });
      }
      if (message.type === 'finding-draft' && message.licenseServer !== key) {
        throw CORE_ERRORS.create('PROCESSOR_KEY_MISMATCH', `finding of ${message.licenseServer} routed to key ${key}`, {
          context: { key, server: message.licenseServer },
        });
      }
      if (message.type === 'tick' && current === undefined) return { state: undefined, outputs };
      const state: ByServerState = current ?? {
        v: 1,
        server: key,
        clock: at,
        keyPacks: {},
        products: {},
        revoked: {},
        open: {},
        revisions: {},
        poolTracks: {},
        spikeTracks: {},
        prunedAt: at,
        plan: { at: null, dirty: false, freeNow: {}, claims: {} },
      };
      state.clock = Math.max(state.clock, at);
      if (state.revocationsOut !== true) announcePlans(state, outputs);
      if (state.clock - state.prunedAt >= DAY_MS) {
        prune(state);
        state.prunedAt = state.clock;
      }
      switch (message.type) {
        case 'tick':
          if (state.plan.dirty && (message.flush === true || state.clock - (state.plan.at ?? state.clock) >= replanMs)) {
            replan(state, outputs, null);
          }
          refreshPools(state, outputs, [], undefined, message.flush === true);
          refreshSpikes(state, outputs, undefined, message.flush === true);
          break;
        case 'license-fact':
          onLicenseFact(state, message, outputs);
          break;
        case 'finding-draft':
          applyDraft(state, message, outputs);
          break;
        case 'keypack.inventory':
          onKeyPack(state, message, outputs);
          enrich(state, message, productKeyOf(message.keyPack.productVersion), outputs);
          break;
        case 'service.event':
          enrich(state, message, onServiceEvent(state, message, outputs), outputs);
          break;
      }
      return { state, outputs };
    },

    dueAt(state) {
      let due: number | null = null;
      if (state.plan.dirty && state.plan.at !== null) due = Math.max(state.plan.at + replanMs, state.clock + 1);
      // Asked after every step of the server (every license fact): no list of entries made.
      for (const p in state.poolTracks) {
        const track = state.poolTracks[p]!;
        if (track.state !== 'open') continue;
        const productState = state.products[p];
        if (productState === undefined) continue;
        const assessment = assessPool(productState, inventoryFor(state, p), state.clock, config);
        if (assessment.expiresAt !== null && (due === null || assessment.expiresAt < due)) due = assessment.expiresAt;
        const holdEnd = holdEndsAt(track, severityHoldMs);
        if (holdEnd !== null && holdEnd > state.clock && (due === null || holdEnd < due)) due = holdEnd;
      }
      for (const p in state.spikeTracks) {
        const track = state.spikeTracks[p]!;
        if (track.state !== 'open') continue;
        const productState = state.products[p];
        if (productState === undefined) continue;
        const clearsAt = spikeClearsAt(spikeViewOf(state, p, productState), config);
        if (clearsAt !== null && clearsAt > state.clock && (due === null || clearsAt < due)) due = clearsAt;
        const holdEnd = holdEndsAt(track, severityHoldMs);
        if (holdEnd !== null && holdEnd > state.clock && (due === null || holdEnd < due)) due = holdEnd;
      }
      return due;
    },
  };
}

/** worstFirst of the drafts: severity, then more CALs, then older, then id. */
function worstEntryFirst(a: { rank: number; firstSeen: number; id: string }, b: { rank: number; firstSeen: number; id: string }): number {
  return b.rank - a.rank || a.firstSeen - b.firstSeen || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function bySoonestExpiry(a: Pick<PlanCandidate, 'licenseId' | 'expiresAt'>, b: Pick<PlanCandidate, 'licenseId' | 'expiresAt'>): number {
  return (a.expiresAt ?? Infinity) - (b.expiresAt ?? Infinity) || a.licenseId - b.licenseId;
}

function hasFreeQuota(freeNow: Readonly<Record<string, number>>): boolean {
  for (const p in freeNow) if (freeNow[p]! > 0) return true;
  return false;
}

const NO_BATCHES: readonly PlanBatch[] = [];

export function decodeByServerState(json: unknown): Decoded<ByServerState> {
  return decodeState(ByServerState, 'by-server', json);
}
