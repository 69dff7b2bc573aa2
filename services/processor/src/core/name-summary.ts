import { retainedUntil, uniqueSorted, withSorted, withoutSorted } from './chain';
import type { HwidEntry } from './hwid-entry';
import type { LicenseRecord } from './license-record';

/**
 * What the name rules and the enrichment read from a name's HWIDs, kept per HWID list
 * (lists are replaced, never changed). A churning name presents hundreds or thousands of
 * HWIDs and each new one makes a new list: deriving these from the whole list on every
 * event made an episode quadratic. A list that differs from the one before by a new HWID,
 * or by a license more (or updated) on one HWID whose first sighting stayed, takes them
 * from that list instead (`follow`), and so does a list the cap left without its longest
 * silent HWIDs (`followDrop`: a churning name at the cap loses one on every new HWID);
 * anything else derives them again. The retention bounds of a long list (`RetentionBounds`)
 * are carried the same way, from when by-computer last read the list.
 */
export interface NameSummary {
  /** Every HWID of the name, sorted. */
  hwids: string[];
  licenseIds: number[];
  keyPackIds: number[];
  /** firstSeen of the newest HWID (-Infinity: none). */
  newest: number;
  /** Newest license update (-Infinity: none). */
  lastSeen: number;
}

/**
 * What by-computer's pruning (on every step) needs to know of a long list to leave it unread:
 * exact when measured, bounds once carried over (an entry gone or replaced may have held them).
 */
export interface RetentionBounds {
  /**
   * No license of the list is retained for less than this (its end, else its expiry), nor
   * an HWID without a license past its last life sign (Infinity: none).
   */
  retainedFrom: number;
  /** No HWID of the list holds more licenses than this. */
  longestChain: number;
}

export interface NameSummaries {
  summaryOf(hwids: readonly HwidEntry[]): NameSummary;
  /** The list's retention bounds when kept (measured, or carried over from list to list). */
  boundsOf(hwids: readonly HwidEntry[]): RetentionBounds | undefined;
  /**
   * Measures the list's retention bounds exactly, kept when it holds enough licenses that
   * reading it again on every step costs more than keeping them (a cloned image's names hold
   * hundreds of reissued CALs, a churning name 64 HWIDs).
   */
  measure(hwids: readonly HwidEntry[]): void;
  /**
   * `after` is `before` with `entry` added (`found` undefined) or replacing `found`, which
   * gained or updated `license`: carries what is known of `before` over where that is exact
   * (true when it did).
   */
  follow(
    before: readonly HwidEntry[],
    after: readonly HwidEntry[],
    found: HwidEntry | undefined,
    entry: HwidEntry,
    license: LicenseRecord,
  ): boolean;
  /**
   * `after` is `before` without some of its entries, the rest unchanged and in order: carries
   * what is known of `before` over (true when it was known).
   */
  followDrop(before: readonly HwidEntry[], after: readonly HwidEntry[]): boolean;
}

/** Fewer licenses than this in a list: read on every step rather than bounded. */
const BOUNDED_FROM_LICENSES = 8;

export function createNameSummaries(): NameSummaries {
  const summaries = new WeakMap<readonly HwidEntry[], NameSummary>();
  const bounds = new WeakMap<readonly HwidEntry[], RetentionBounds>();

  function measure(hwids: readonly HwidEntry[]): void {
    let retainedFrom = Infinity;
    let longestChain = 0;
    let licenses = 0;
    for (const h of hwids) {
      retainedFrom = Math.min(retainedFrom, retainedFromOf(h));
      longestChain = Math.max(longestChain, h.licenses.length);
      licenses += h.licenses.length;
    }
    if (licenses >= BOUNDED_FROM_LICENSES) bounds.set(hwids, { retainedFrom, longestChain });
  }

  function summaryOf(hwids: readonly HwidEntry[]): NameSummary {
    let summary = summaries.get(hwids);
    if (summary === undefined) {
      const licenseIds: number[] = [];
      const keyPackIds: number[] = [];
      let newest = -Infinity;
      let lastSeen = -Infinity;
      for (const h of hwids) {
        if (h.firstSeen > newest) newest = h.firstSeen;
        for (const r of h.licenses) {
          licenseIds.push(r.licenseId);
          keyPackIds.push(r.keyPackId);
          if (r.updatedAt > lastSeen) lastSeen = r.updatedAt;
        }
      }
      summary = { hwids: uniqueSorted(hwids.map((h) => h.hwid)), licenseIds: uniqueSorted(licenseIds), keyPackIds: uniqueSorted(keyPackIds), newest, lastSeen };
      summaries.set(hwids, summary);
    }
    return summary;
  }

  function follow(
    before: readonly HwidEntry[],
    after: readonly HwidEntry[],
    found: HwidEntry | undefined,
    entry: HwidEntry,
    license: LicenseRecord,
  ): boolean {
    const known = bounds.get(before);
    if (known !== undefined) {
      // The entry's other licenses are those `before` had: only the new one can lower the bound.
      bounds.set(after, {
        retainedFrom: Math.min(known.retainedFrom, retainedUntil(license)),
        longestChain: Math.max(known.longestChain, entry.licenses.length),
      });
    }
    const summary = summaries.get(before);
    // A first sighting moved back may have been the newest: derived again.
    if (summary === undefined || (found !== undefined && found.firstSeen !== entry.firstSeen)) return false;
    // An updated license may have left its old key pack: derived again.
    const replaced = found?.licenses.find((r) => r.licenseId === license.licenseId && !entry.licenses.includes(r));
    if (replaced !== undefined && replaced.keyPackId !== license.keyPackId) return false;
    summaries.set(after, {
      hwids: found === undefined ? withSorted(summary.hwids, entry.hwid) : summary.hwids,
      licenseIds: withSorted(summary.licenseIds, license.licenseId),
      keyPackIds: withSorted(summary.keyPackIds, license.keyPackId),
      newest: Math.max(summary.newest, entry.firstSeen),
      lastSeen: Math.max(summary.lastSeen, license.updatedAt),
    });
    return true;
  }

  function followDrop(before: readonly HwidEntry[], after: readonly HwidEntry[]): boolean {
    // Fewer entries: the bounds still hold.
    const known = bounds.get(before);
    if (known !== undefined) bounds.set(after, known);
    const summary = summaries.get(before);
    if (summary === undefined) return false;
    // `after` keeps `before`'s order: the gone entries are where the two lists part (a
    // churning name at its cap loses one of 65 per boot; no set of the kept ones is built).
    const goneHwids: string[] = [];
    const goneIds = new Set<number>();
    const goneKeyPacks = new Set<number>();
    let newestGone = false;
    let lastSeenGone = false;
    for (let i = 0, j = 0; i < before.length; i++) {
      const h = before[i]!;
      if (j < after.length && h === after[j]) {
        j++;
        continue;
      }
      goneHwids.push(h.hwid);
      if (h.firstSeen >= summary.newest) newestGone = true;
      for (const r of h.licenses) {
        goneIds.add(r.licenseId);
        goneKeyPacks.add(r.keyPackId);
        if (r.updatedAt >= summary.lastSeen) lastSeenGone = true;
      }
    }
    // Ids and key packs go only when no remaining HWID holds them too.
    for (let i = 0; i < after.length && goneIds.size + goneKeyPacks.size > 0; i++) {
      for (const r of after[i]!.licenses) {
        goneIds.delete(r.licenseId);
        goneKeyPacks.delete(r.keyPackId);
      }
    }
    let newest = summary.newest;
    if (newestGone) {
      newest = -Infinity;
      for (const h of after) if (h.firstSeen > newest) newest = h.firstSeen;
    }
    let lastSeen = summary.lastSeen;
    if (lastSeenGone) {
      lastSeen = -Infinity;
      for (const h of after) for (const r of h.licenses) if (r.updatedAt > lastSeen) lastSeen = r.updatedAt;
    }
    summaries.set(after, {
      hwids: withoutSorted(summary.hwids, goneHwids),
      licenseIds: withoutSorted(summary.licenseIds, [...goneIds]),
      keyPackIds: withoutSorted(summary.keyPackIds, [...goneKeyPacks]),
      newest,
      lastSeen,
    });
    return true;
  }

  return { summaryOf, boundsOf: (hwids) => bounds.get(hwids), measure, follow, followDrop };
}

/** `retainedFrom` of one entry: its earliest-ending license, else its last life sign. */
function retainedFromOf(entry: HwidEntry): number {
  if (entry.licenses.length === 0) return entry.lastAliveAt;
  let from = Infinity;
  for (const r of entry.licenses) from = Math.min(from, retainedUntil(r));
  return from;
}
