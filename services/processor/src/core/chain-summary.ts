import { uniqueSorted, withSorted } from './chain';
import { type LicenseRecord, isPermanent, isValidAt } from './license-record';
import type { Candidate } from './messages';

/**
 * What the cloned-image rule and the enrichment read from an HWID's chain, kept per chain.
 * A cloned image reissued thousands of times has a chain of thousands of licenses, and each
 * reissue makes a new chain (chains are replaced, never changed): deriving these from the
 * whole chain on every reissue made an episode quadratic. A chain that differs from the one
 * before by a license added at its end, or updated in place with the same name and key pack,
 * takes them from that chain instead (`follow`): one insertion per reissue. Anything else (a
 * late license in the middle, a renewal, a prune) is derived from the chain again.
 */

/** The sorted names, license ids and key pack ids of a chain, and when it was reissued. */
export interface ChainSummary {
  computers: string[];
  licenseIds: number[];
  keyPackIds: number[];
  /** Issue time of every reissue (a license to another name than the one before it), ascending. */
  switchTimes: number[];
  /** The newest `updatedAt` of the chain. */
  lastSeen: number;
  /** The earliest end (or else expiry) of a license in the chain (Infinity: none): nothing is pruned before it. */
  earliestEnd: number;
}

/**
 * The chain's valid licenses at `clock`, as they stay until `validUntil` (the first end or
 * expiry of a license valid now): the newest valid license of each name, and the valid
 * permanent others (the surplus a revoke would return), in chain order.
 */
export interface ChainStanding {
  clock: number;
  validUntil: number;
  /** The earliest expiry of a license valid at `clock` (null: none expires). */
  nextExpiry: number | null;
  newest: ReadonlyMap<string, LicenseRecord>;
  surplus: readonly LicenseRecord[];
  /** `surplus` as revoke candidates (same order); shared with the findings derived from it, never changed. */
  candidates: Candidate[];
  /** When `candidates` is another standing's list with CALs added: that list and how many (lets a track skip comparing them). */
  grewFrom?: { base: readonly Candidate[]; added: number };
}

export interface ChainSummaries {
  summaryOf(chain: readonly LicenseRecord[]): ChainSummary;
  /** The standing at `clock` (no earlier than any clock the chain was asked about before). */
  standingOf(chain: readonly LicenseRecord[], clock: number): ChainStanding;
  /**
   * `after` is `before` with `record` added (`previous` undefined) or replacing `previous`:
   * carries what is known of `before` over to `after` where that is exact.
   */
  follow(before: readonly LicenseRecord[], after: readonly LicenseRecord[], previous: LicenseRecord | undefined, record: LicenseRecord, clock: number): void;
}

const byName = (r: LicenseRecord) => r.computer;

export function createChainSummaries(): ChainSummaries {
  const summaries = new WeakMap<readonly LicenseRecord[], ChainSummary>();
  const standings = new WeakMap<readonly LicenseRecord[], ChainStanding>();

  function summaryOf(chain: readonly LicenseRecord[]): ChainSummary {
    let summary = summaries.get(chain);
    if (summary === undefined) {
      const switchTimes: number[] = [];
      let lastSeen = -Infinity;
      let earliestEnd = Infinity;
      for (let i = 0; i < chain.length; i++) {
        const r = chain[i]!;
        if (i > 0 && r.computer !== chain[i - 1]!.computer) switchTimes.push(r.issuedAt);
        if (r.updatedAt > lastSeen) lastSeen = r.updatedAt;
        earliestEnd = Math.min(earliestEnd, retainedUntil(r));
      }
      summary = {
        computers: uniqueSorted(chain.map(byName)),
        licenseIds: uniqueSorted(chain.map((r) => r.licenseId)),
        keyPackIds: uniqueSorted(chain.map((r) => r.keyPackId)),
        switchTimes,
        lastSeen,
        earliestEnd,
      };
      summaries.set(chain, summary);
    }
    return summary;
  }

  function standingOf(chain: readonly LicenseRecord[], clock: number): ChainStanding {
    const known = standings.get(chain);
    if (known !== undefined && known.clock <= clock && clock < known.validUntil) return known;
    const standing = standingAt(chain, clock);
    standings.set(chain, standing);
    return standing;
  }

  function follow(before: readonly LicenseRecord[], after: readonly LicenseRecord[], previous: LicenseRecord | undefined, record: LicenseRecord, clock: number): void {
    const appended = previous === undefined && after.length === before.length + 1 && after[after.length - 1] === record;
    // Updated in place under the same name and key pack: the lists and reissues stay as they were.
    const sameSlot = previous !== undefined && previous.computer === record.computer && previous.keyPackId === record.keyPackId;
    const summary = summaries.get(before);
    if (summary !== undefined && appended) {
      const last = before[before.length - 1];
      summaries.set(after, {
        computers: withSorted(summary.computers, record.computer),
        licenseIds: withSorted(summary.licenseIds, record.licenseId),
        keyPackIds: withSorted(summary.keyPackIds, record.keyPackId),
        switchTimes: last !== undefined && last.computer !== record.computer ? [...summary.switchTimes, record.issuedAt] : summary.switchTimes,
        lastSeen: Math.max(summary.lastSeen, record.updatedAt),
        earliestEnd: Math.min(summary.earliestEnd, retainedUntil(record)),
      });
    } else if (summary !== undefined && sameSlot && retainedUntil(previous) > summary.earliestEnd) {
      // updatedAt never moves back, so the newest one is the old newest or this one; the
      // license was not the earliest to end, so the earliest end is that or its new one.
      summaries.set(after, {
        ...summary,
        lastSeen: Math.max(summary.lastSeen, record.updatedAt),
        earliestEnd: Math.min(summary.earliestEnd, retainedUntil(record)),
      });
    }
    // A license updated in place may have changed its validity: that standing is derived again.
    const standing = standings.get(before);
    if (appended && standing !== undefined && standing.clock <= clock && clock < standing.validUntil) standings.set(after, appendedStanding(standing, record, clock));
  }

  return { summaryOf, standingOf, follow };
}

function standingAt(chain: readonly LicenseRecord[], clock: number): ChainStanding {
  const newest = new Map<string, LicenseRecord>();
  const surplus: LicenseRecord[] = [];
  let validUntil = Infinity;
  let nextExpiry: number | null = null;
  // From the newest end: a name's first valid license is the one it uses.
  for (let i = chain.length - 1; i >= 0; i--) {
    const r = chain[i]!;
    if (!isValidAt(r, clock)) continue;
    validUntil = Math.min(validUntil, endOf(r));
    if (r.expiresAt !== null && (nextExpiry === null || r.expiresAt < nextExpiry)) nextExpiry = r.expiresAt;
    if (!newest.has(r.computer)) newest.set(r.computer, r);
    else if (isPermanent(r.status)) surplus.push(r);
  }
  surplus.reverse();
  return { clock, validUntil, nextExpiry, newest, surplus, candidates: surplus.map(candidateOf) };
}

/**
 * The standing after `record` joined the end of the chain, at `clock` (before `validUntil`,
 * so every license kept its validity): if it is valid it becomes its name's newest, and the
 * license that was (valid, permanent) becomes surplus.
 */
function appendedStanding(standing: ChainStanding, record: LicenseRecord, clock: number): ChainStanding {
  if (!isValidAt(record, clock)) return { ...standing, clock, grewFrom: { base: standing.candidates, added: 0 } };
  const newest = new Map(standing.newest);
  const displaced = newest.get(record.computer);
  newest.set(record.computer, record);
  const validUntil = Math.min(standing.validUntil, endOf(record));
  const nextExpiry = record.expiresAt !== null && (standing.nextExpiry === null || record.expiresAt < standing.nextExpiry) ? record.expiresAt : standing.nextExpiry;
  if (displaced === undefined || !isPermanent(displaced.status)) {
    return { clock, validUntil, nextExpiry, newest, surplus: standing.surplus, candidates: standing.candidates, grewFrom: { base: standing.candidates, added: 0 } };
  }
  // The displaced license goes where it stands in the chain (chain order: issue time, then id).
  const at = insertionPoint(standing.surplus, displaced);
  const surplus = standing.surplus.slice();
  surplus.splice(at, 0, displaced);
  const candidates = standing.candidates.slice();
  candidates.splice(at, 0, candidateOf(displaced));
  return { clock, validUntil, nextExpiry, newest, surplus, candidates, grewFrom: { base: standing.candidates, added: 1 } };
}

function insertionPoint(surplus: readonly LicenseRecord[], r: LicenseRecord): number {
  let lo = 0;
  let hi = surplus.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const m = surplus[mid]!;
    if (m.issuedAt < r.issuedAt || (m.issuedAt === r.issuedAt && (m.licenseId < r.licenseId || (m.licenseId === r.licenseId && m.server < r.server)))) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What pruneChain keeps a license until (its end, else its expiry; Infinity: kept). */
function retainedUntil(r: LicenseRecord): number {
  return r.endedAt ?? r.expiresAt ?? Infinity;
}

/** When a valid license stops being valid (its end or its expiry). */
function endOf(r: LicenseRecord): number {
  return Math.min(r.endedAt ?? Infinity, r.expiresAt ?? Infinity);
}

/** A license as a revoke candidate; records are replaced, never changed, so each is made once. */
const candidates = new WeakMap<LicenseRecord, Candidate>();

function candidateOf(r: LicenseRecord): Candidate {
  let c = candidates.get(r);
  if (c === undefined) candidates.set(r, (c = { licenseId: r.licenseId, keyPackId: r.keyPackId, expiresAt: r.expiresAt }));
  return c;
}
