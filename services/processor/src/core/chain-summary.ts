import { candidateOf, compareRecords, firstIndexWhere, insertedAt, retainedUntil, uniqueSorted, withSorted, withoutSorted } from './chain';
import { type LicenseRecord, isPermanent, isValidAt } from './license-record';
import type { Candidate } from './messages';

/**
 * What the cloned-image rule and the enrichment read from an HWID's chain, kept per chain.
 * A cloned image reissued thousands of times has a chain of thousands of licenses, and each
 * reissue makes a new chain (chains are replaced, never changed): deriving these from the
 * whole chain on every reissue made an episode quadratic. A chain that differs from the one
 * before by a license added at its end, updated in place with the same name and key pack (a
 * renewal, an upgrade, a revocation) or pruned takes its summary from that chain instead
 * (`follow`, `followPrune`): one insertion per reissue. Its standing is taken over only for a
 * license added at its end or its oldest pruned. Anything else (a late license in the middle,
 * a license moved to another name) is derived from the chain again.
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
  /** How many of its licenses are not permanent CALs: with none, a prune at the cap drops the oldest unread. */
  temporaries: number;
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
  /**
   * How `candidates` differs from earlier lists (the one of the standing this one was carried
   * from, and the one before that): CALs added and removed, nothing else changed. A track
   * that holds one of those lists knows its change count without comparing the lists.
   */
  changedFrom?: readonly CandidateEdit[];
}

/** `base` with the CALs `addedIds` added and `removedIds` removed: `changes` in all. */
export interface CandidateEdit {
  base: readonly Candidate[];
  changes: number;
  addedIds: readonly number[];
  removedIds: readonly number[];
}

/**
 * The edits of a standing carried from `from` by adding `added` and removing `removed`:
 * against from's list, and against the list from's first edit started at, unless a CAL
 * came back or went again in between (counting it twice would not be what comparing the
 * lists gives).
 */
function editsAfter(from: ChainStanding, added: readonly Candidate[], removed: readonly Candidate[]): CandidateEdit[] {
  const addedIds = added.map((c) => c.licenseId);
  const removedIds = removed.map((c) => c.licenseId);
  const edits: CandidateEdit[] = [{ base: from.candidates, changes: added.length + removed.length, addedIds, removedIds }];
  const earlier = from.changedFrom?.[0];
  if (earlier !== undefined && !addedIds.some((id) => earlier.removedIds.includes(id)) && !removedIds.some((id) => earlier.addedIds.includes(id))) {
    edits.push({
      base: earlier.base,
      changes: earlier.changes + added.length + removed.length,
      addedIds: [...earlier.addedIds, ...addedIds],
      removedIds: [...earlier.removedIds, ...removedIds],
    });
  }
  return edits;
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
  /**
   * `after` is what pruneChain kept of `before` at `clock`: when that is `before` without its
   * oldest licenses (a chain at the cap drops one per reissue), carries what is known over
   * (true when the standing was).
   */
  followPrune(before: readonly LicenseRecord[], after: readonly LicenseRecord[], clock: number): boolean;
}

const byName = (r: LicenseRecord) => r.computer;

export function createChainSummaries(): ChainSummaries {
  const summaries = new WeakMap<readonly LicenseRecord[], ChainSummary>();
  const standings = new WeakMap<readonly LicenseRecord[], ChainStanding>();
  /** For a chain whose standing is derived again: the standing of the chain it came from. */
  const predecessors = new WeakMap<readonly LicenseRecord[], ChainStanding>();

  function summaryOf(chain: readonly LicenseRecord[]): ChainSummary {
    let summary = summaries.get(chain);
    if (summary === undefined) {
      let lastSeen = -Infinity;
      let earliestEnd = Infinity;
      let temporaries = 0;
      for (let i = 0; i < chain.length; i++) {
        const r = chain[i]!;
        if (r.updatedAt > lastSeen) lastSeen = r.updatedAt;
        earliestEnd = Math.min(earliestEnd, retainedUntil(r));
        if (!isPermanent(r.status)) temporaries++;
      }
      summary = {
        computers: uniqueSorted(chain.map(byName)),
        licenseIds: uniqueSorted(chain.map((r) => r.licenseId)),
        keyPackIds: uniqueSorted(chain.map((r) => r.keyPackId)),
        switchTimes: switchTimesOf(chain),
        lastSeen,
        earliestEnd,
        temporaries,
      };
      summaries.set(chain, summary);
    }
    return summary;
  }

  function standingOf(chain: readonly LicenseRecord[], clock: number): ChainStanding {
    const known = standings.get(chain);
    if (known !== undefined && known.clock <= clock && clock < known.validUntil) return known;
    const standing = standingAt(chain, clock, known ?? predecessors.get(chain));
    // Lent once: the chain it came from is not kept alive by this one.
    predecessors.delete(chain);
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
        switchTimes:
          last !== undefined && last.computer !== record.computer
            ? insertedAt(summary.switchTimes, summary.switchTimes.length, record.issuedAt)
            : summary.switchTimes,
        lastSeen: Math.max(summary.lastSeen, record.updatedAt),
        earliestEnd: Math.min(summary.earliestEnd, retainedUntil(record)),
        temporaries: summary.temporaries + temporary(record),
      });
    } else if (summary !== undefined && sameSlot) {
      // updatedAt never moves back, so the newest one is the old newest or this one. A license
      // that was not the earliest to end leaves the earliest end that or its new one; the one
      // that was (a cloned image's oldest CAL renewing) has it read again, without the sorted
      // lists, which the same name, key pack and id leave as they were.
      let earliestEnd = Math.min(summary.earliestEnd, retainedUntil(record));
      if (retainedUntil(previous) <= summary.earliestEnd) {
        earliestEnd = Infinity;
        for (const r of after) earliestEnd = Math.min(earliestEnd, retainedUntil(r));
      }
      summaries.set(after, {
        ...summary,
        lastSeen: Math.max(summary.lastSeen, record.updatedAt),
        earliestEnd,
        temporaries: summary.temporaries - temporary(previous) + temporary(record),
      });
    }
    // A license updated in place may have changed its validity: that standing is derived again.
    const standing = standings.get(before);
    if (appended && standing !== undefined && standing.clock <= clock && clock < standing.validUntil) standings.set(after, appendedStanding(standing, record, clock));
    else if (standing !== undefined) predecessors.set(after, standing);
  }

  function followPrune(before: readonly LicenseRecord[], after: readonly LicenseRecord[], clock: number): boolean {
    const k = before.length - after.length;
    if (k <= 0 || after.length === 0) return false;
    const summary = summaries.get(before);
    // pruneChain keeps order and only removes: the same first survivor means a dropped prefix.
    if (after[0] !== before[k]) {
      // Licenses ended long ago dropped from within the chain: the summary without them; the
      // standing is derived again.
      if (summary !== undefined) summaries.set(after, withoutDropped(summary, before, after, droppedFrom(before, after), false));
      const standing = standings.get(before);
      if (standing !== undefined) predecessors.set(after, standing);
      return false;
    }
    const dropped = before.slice(0, k);
    if (summary !== undefined) summaries.set(after, withoutDropped(summary, before, after, dropped, true));
    const standing = standings.get(before);
    if (standing !== undefined && standing.clock <= clock && clock < standing.validUntil) {
      const next = standingWithoutPrefix(standing, dropped, clock);
      if (next !== null) standings.set(after, next);
      return next !== null;
    }
    return false;
  }

  return { summaryOf, standingOf, follow, followPrune };
}

/** The licenses of `before` that `after` (the same order, some removed) no longer has. */
function droppedFrom(before: readonly LicenseRecord[], after: readonly LicenseRecord[]): LicenseRecord[] {
  const dropped: LicenseRecord[] = [];
  let j = 0;
  for (const r of before) {
    if (j < after.length && after[j] === r) j++;
    else dropped.push(r);
  }
  return dropped;
}

/** The reissue times of a chain (a license to another name than the one before it). */
function switchTimesOf(chain: readonly LicenseRecord[]): number[] {
  const times: number[] = [];
  for (let i = 1; i < chain.length; i++) if (chain[i]!.computer !== chain[i - 1]!.computer) times.push(chain[i]!.issuedAt);
  return times;
}

/**
 * The summary of `after`, which is `before` without `dropped`: its first licenses (`prefix`),
 * or licenses from anywhere in it (its reissues are then read again, its sorted lists not).
 */
function withoutDropped(summary: ChainSummary, before: readonly LicenseRecord[], after: readonly LicenseRecord[], dropped: readonly LicenseRecord[], prefix: boolean): ChainSummary {
  // A reissue at indices 1..k of `before` needs a predecessor that is gone, or is gone itself.
  let lost = 0;
  if (prefix) for (let i = 1; i <= dropped.length; i++) if (before[i]!.computer !== before[i - 1]!.computer) lost++;
  let lastSeen = summary.lastSeen;
  let earliestEnd = summary.earliestEnd;
  if (dropped.some((r) => r.updatedAt >= lastSeen)) {
    lastSeen = -Infinity;
    for (const r of after) if (r.updatedAt > lastSeen) lastSeen = r.updatedAt;
  }
  if (dropped.some((r) => retainedUntil(r) <= earliestEnd)) {
    earliestEnd = Infinity;
    for (const r of after) earliestEnd = Math.min(earliestEnd, retainedUntil(r));
  }
  let temporaries = summary.temporaries;
  for (const r of dropped) temporaries -= temporary(r);
  return {
    computers: withoutGone(summary.computers, dropped, after, (r) => r.computer),
    // As many ids as licenses: each is one license's alone, and goes with it (no walk of the rest).
    licenseIds:
      summary.licenseIds.length === before.length
        ? withoutSorted(summary.licenseIds, dropped.map((r) => r.licenseId))
        : withoutGone(summary.licenseIds, dropped, after, (r) => r.licenseId),
    keyPackIds: withoutGone(summary.keyPackIds, dropped, after, (r) => r.keyPackId),
    switchTimes: !prefix ? switchTimesOf(after) : lost === 0 ? summary.switchTimes : summary.switchTimes.slice(lost),
    lastSeen,
    earliestEnd,
    temporaries,
  };
}

/** A sorted list without the values only the dropped licenses had. */
function withoutGone<T extends string | number>(list: T[], dropped: readonly LicenseRecord[], kept: readonly LicenseRecord[], valueOf: (r: LicenseRecord) => T): T[] {
  let out = list;
  for (const r of dropped) {
    const value = valueOf(r);
    if (kept.some((k) => valueOf(k) === value)) continue;
    const at = out.indexOf(value);
    if (at < 0) continue;
    out = out.slice();
    out.splice(at, 1);
  }
  return out;
}

/**
 * The standing without the chain's oldest licenses, at `clock` (before its validUntil): a
 * dropped license that was its name's newest valid one leaves the name with none (the rest
 * are newer); one in the surplus leaves it (the surplus is in chain order, so those lead it).
 * Null when a dropped license decided validUntil or nextExpiry: derived again then.
 */
function standingWithoutPrefix(standing: ChainStanding, dropped: readonly LicenseRecord[], clock: number): ChainStanding | null {
  let newest: Map<string, LicenseRecord> | undefined;
  let surplusDropped = 0;
  for (const r of dropped) {
    if (!isValidAt(r, clock)) continue;
    if (endOf(r) <= standing.validUntil || r.expiresAt === standing.nextExpiry) return null;
    if (standing.newest.get(r.computer) === r) (newest ??= new Map(standing.newest)).delete(r.computer);
    else if (isPermanent(r.status)) surplusDropped++;
  }
  for (let i = 0; i < surplusDropped; i++) if (!dropped.includes(standing.surplus[i]!)) return null;
  return {
    clock,
    validUntil: standing.validUntil,
    nextExpiry: standing.nextExpiry,
    newest: newest ?? standing.newest,
    surplus: surplusDropped === 0 ? standing.surplus : standing.surplus.slice(surplusDropped),
    candidates: surplusDropped === 0 ? standing.candidates : standing.candidates.slice(surplusDropped),
    changedFrom: editsAfter(standing, NONE, standing.candidates.slice(0, surplusDropped)),
  };
}

/**
 * The standing of `chain` at `clock`, read from every license. `earlier` (a standing of this
 * chain or of the one it came from) lends its candidates where its surplus holds the same
 * license: each is candidateOf's one object for it, and a lookup in that table per surplus
 * license was a third of deriving a cloned image's standing again on a renewal.
 */
function standingAt(chain: readonly LicenseRecord[], clock: number, earlier?: ChainStanding): ChainStanding {
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
  const candidates: Candidate[] = [];
  const lent = earlier?.surplus ?? NO_RECORDS;
  // Both surpluses are in chain order: one walk pairs the licenses they share.
  let j = 0;
  for (const r of surplus) {
    while (j < lent.length && compareRecords(lent[j]!, r) < 0) j++;
    if (j < lent.length && lent[j] === r) candidates.push(earlier!.candidates[j++]!);
    else candidates.push(candidateOf(r));
  }
  return { clock, validUntil, nextExpiry, newest, surplus, candidates };
}

const NO_RECORDS: readonly LicenseRecord[] = [];

/**
 * The standing after `record` joined the end of the chain, at `clock` (before `validUntil`,
 * so every license kept its validity): if it is valid it becomes its name's newest, and the
 * license that was (valid, permanent) becomes surplus.
 */
function appendedStanding(standing: ChainStanding, record: LicenseRecord, clock: number): ChainStanding {
  if (!isValidAt(record, clock)) return { ...standing, clock, changedFrom: editsAfter(standing, NONE, NONE) };
  const newest = new Map(standing.newest);
  const displaced = newest.get(record.computer);
  newest.set(record.computer, record);
  const validUntil = Math.min(standing.validUntil, endOf(record));
  const nextExpiry = record.expiresAt !== null && (standing.nextExpiry === null || record.expiresAt < standing.nextExpiry) ? record.expiresAt : standing.nextExpiry;
  if (displaced === undefined || !isPermanent(displaced.status)) {
    return { clock, validUntil, nextExpiry, newest, surplus: standing.surplus, candidates: standing.candidates, changedFrom: editsAfter(standing, NONE, NONE) };
  }
  // The displaced license goes where it stands in the chain (chain order: issue time, then id).
  const at = firstIndexWhere(standing.surplus.length, (i) => compareRecords(standing.surplus[i]!, displaced) >= 0);
  const surplus = insertedAt(standing.surplus, at, displaced);
  const joined = candidateOf(displaced);
  const candidates = insertedAt(standing.candidates, at, joined);
  return { clock, validUntil, nextExpiry, newest, surplus, candidates, changedFrom: editsAfter(standing, [joined], NONE) };
}

const NONE: readonly Candidate[] = [];

/** 1 for a license that is not a permanent CAL, else 0 (ChainSummary.temporaries). */
function temporary(r: LicenseRecord): number {
  return isPermanent(r.status) ? 0 : 1;
}

/** When a valid license stops being valid (its end or its expiry). */
function endOf(r: LicenseRecord): number {
  return Math.min(r.endedAt ?? Infinity, r.expiresAt ?? Infinity);
}
