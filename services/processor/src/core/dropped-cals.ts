import { z } from 'zod';
import { candidateOf, firstIndexWhere, joined, uniqueSorted, withSorted, withoutIndexes, withoutSorted } from './chain';
import type { HwidEntry } from './hwid-entry';
import { type LicenseRecord, holdsCalAt } from './license-record';
import { Candidate } from './messages';

/**
 * The CALs of HWIDs a name dropped at its `state.maxHwidsPerComputer` cap while they were
 * valid. A non-persistent desktop leaves one valid CAL per boot for up to 89 days: at ten
 * boots a day some 500, far beyond the HWIDs a name's state keeps in full. What a count and a
 * revoke plan need of such a CAL is small (its id, key pack, issue date and expiry), so the
 * name keeps that much of each until it expires, or until a license event of it is seen again
 * (renewed, revoked, returned, moved: the license then re-enters the name's state as it is
 * now, and a revoked one no longer counts). A CAL is known by its license id and issue date,
 * as a license is everywhere in the core (ids are reused).
 */
export const DroppedCal = z.object({
  issuedAt: z.number(),
  /** The revoke candidate the churn finding lists (the object it sends, not a copy per step). */
  cal: Candidate.extend({ expiresAt: z.number() }),
});
export type DroppedCal = z.infer<typeof DroppedCal>;

/** What the name rules read of a name's dropped CALs. */
export interface DroppedCalsView {
  /** In chain order (issue date, then license id). */
  readonly list: readonly DroppedCal[];
  /** The same, as the revoke candidates a finding lists. */
  readonly cals: readonly Candidate[];
  readonly licenseIds: readonly number[];
  readonly keyPackIds: readonly number[];
  /** The soonest expiry (null: none). */
  readonly nextExpiry: number | null;
}

export const NO_DROPPED_CALS: DroppedCalsView = Object.freeze({ list: [], cals: [], licenseIds: [], keyPackIds: [], nextExpiry: null });

/** Chain order, as the changelog puts a restored list back together. */
export function compareDroppedCals(a: DroppedCal, b: DroppedCal): number {
  return a.issuedAt - b.issuedAt || a.cal.licenseId - b.cal.licenseId;
}

export function droppedCalKey(d: DroppedCal): string {
  return `${d.cal.licenseId}|${d.issuedAt}`;
}

const views = new WeakMap<readonly DroppedCal[], DroppedCalsView>();

/**
 * The view of a list (replaced, never changed: one view per list, shared by a step and its
 * timer). A churning name at its cap makes a new list at nearly every boot (one CAL dropped,
 * one expired, the oldest past the bound): every operation below hands the view of the list
 * it made on from the view of the list before, instead of reading a thousand CALs again.
 */
export function droppedCalsView(list: readonly DroppedCal[] | undefined): DroppedCalsView {
  if (list === undefined || list.length === 0) return NO_DROPPED_CALS;
  let view = views.get(list);
  if (view === undefined) views.set(list, (view = viewOf(list)));
  return view;
}

function viewOf(list: readonly DroppedCal[]): DroppedCalsView {
  let nextExpiry = Number.POSITIVE_INFINITY;
  const cals: Candidate[] = [];
  const licenseIds: number[] = [];
  const keyPackIds: number[] = [];
  for (const d of list) {
    const { cal } = d;
    if (cal.expiresAt < nextExpiry) nextExpiry = cal.expiresAt;
    cals.push(cal);
    licenseIds.push(cal.licenseId);
    // A name's CALs come from a key pack or two.
    if (!keyPackIds.includes(cal.keyPackId)) keyPackIds.push(cal.keyPackId);
  }
  return { list, cals, licenseIds: uniqueSorted(licenseIds), keyPackIds: uniqueSorted(keyPackIds), nextExpiry };
}

/**
 * Records the view of `list`: `base`'s list without the CALs at `removed` (ascending indexes),
 * with `added` after the rest (in order). Ids leave the view only when no other CAL has them
 * (ids are reused: when the base holds one twice, the view is read again).
 */
function viewAfterEdit(base: DroppedCalsView, list: readonly DroppedCal[], removed: readonly number[], added: readonly DroppedCal[]): void {
  if (list.length === 0) return;
  if (base.licenseIds.length !== base.list.length) return;
  const cals = withoutIndexes(base.cals, removed);
  for (const d of added) cals.push(d.cal);
  let { licenseIds, keyPackIds, nextExpiry } = base;
  let soonestGone = false;
  const goneKeyPacks: number[] = [];
  if (removed.length > 0) {
    const goneIds: number[] = [];
    for (const at of removed) {
      const { cal } = base.list[at]!;
      goneIds.push(cal.licenseId);
      if (!goneKeyPacks.includes(cal.keyPackId)) goneKeyPacks.push(cal.keyPackId);
      if (cal.expiresAt === nextExpiry) soonestGone = true;
    }
    licenseIds = withoutSorted(licenseIds, goneIds);
  }
  for (const { cal } of added) {
    licenseIds = withSorted(licenseIds, cal.licenseId);
    keyPackIds = withSorted(keyPackIds, cal.keyPackId);
  }
  // A key pack goes when no CAL left has it (a name's CALs come from one or two: found at once).
  const keyPacksGone = goneKeyPacks.filter((k) => !cals.some((c) => c.keyPackId === k));
  if (keyPacksGone.length > 0) keyPackIds = withoutSorted(keyPackIds, keyPacksGone);
  if (soonestGone) {
    nextExpiry = Number.POSITIVE_INFINITY;
    for (const c of cals) if (c.expiresAt! < nextExpiry) nextExpiry = c.expiresAt!;
  } else {
    for (const { cal } of added) if (nextExpiry === null || cal.expiresAt < nextExpiry) nextExpiry = cal.expiresAt;
  }
  views.set(list, { list, cals, licenseIds, keyPackIds, nextExpiry });
}

/**
 * The CALs the dropped HWIDs hold at `clock`, added to `list` in chain order; the oldest go
 * past `max` (counted in `overflow`), as do CALs without an expiry date, which cannot be
 * kept to a bound.
 */
export function withDroppedHwids(
  list: DroppedCal[] | undefined,
  dropped: readonly HwidEntry[],
  clock: number,
  max: number,
): { list: DroppedCal[] | undefined; overflow: number } {
  const added: DroppedCal[] = [];
  let overflow = 0;
  for (const entry of dropped) {
    for (const r of entry.licenses) {
      if (!holdsCalAt(r, clock)) continue;
      if (r.expiresAt === null) overflow++;
      else added.push(droppedCalOf(r as LicenseRecord & { expiresAt: number }));
    }
  }
  if (added.length === 0) return { list, overflow };
  const before = list ?? [];
  // Usually the dropped are newer than every CAL dropped before: already in order.
  let ordered = before.length === 0 || compareDroppedCals(before[before.length - 1]!, added[0]!) <= 0;
  for (let i = 1; i < added.length && ordered; i++) ordered = compareDroppedCals(added[i - 1]!, added[i]!) <= 0;
  if (!ordered) {
    const merged = [...before, ...added].sort(compareDroppedCals);
    return merged.length > max ? { list: merged.slice(merged.length - max), overflow: overflow + merged.length - max } : { list: merged, overflow };
  }
  // In order: the oldest past the bound go.
  const past = Math.max(0, before.length + added.length - max);
  const kept = past === 0 ? added : added.slice(Math.max(0, past - before.length));
  const merged = joined(past === 0 ? before : before.slice(Math.min(past, before.length)), kept);
  const removed = Array.from({ length: Math.min(past, before.length) }, (_, i) => i);
  viewAfterEdit(droppedCalsView(before), merged, removed, kept);
  return { list: merged, overflow: overflow + past };
}

function droppedCalOf(r: LicenseRecord & { expiresAt: number }): DroppedCal {
  // The candidate object the name listed while it kept the license: the finding's lists then
  // compare as unchanged without reading them (finding-track countChanges).
  return { issuedAt: r.issuedAt, cal: candidateOf(r) as DroppedCal['cal'] };
}

/**
 * The dropped CALs issued in (from, to], and the earliest issue among them (null: none): how
 * many new HWIDs a churning name presented lately counts the dropped ones (one CAL each).
 */
export function issuedBetween(view: DroppedCalsView, from: number, to: number): { count: number; earliest: number | null } {
  const { list } = view;
  const start = firstIndexWhere(list.length, (i) => list[i]!.issuedAt > from);
  const end = firstIndexWhere(list.length, (i) => list[i]!.issuedAt > to);
  return end > start ? { count: end - start, earliest: list[start]!.issuedAt } : { count: 0, earliest: null };
}

/**
 * `list` without the CAL of this license instance (the same list when it holds none). Every
 * event of a license carries its issue date, so the lookup is a binary search, and a new
 * license (issued after every dropped one, the usual case) one comparison.
 */
export function withoutLicense(list: DroppedCal[], license: { licenseId: number; issuedAt: number }): DroppedCal[] {
  const n = list.length;
  if (n === 0 || list[n - 1]!.issuedAt < license.issuedAt) return list;
  const at = firstIndexWhere(n, (i) => compareToLicense(list[i]!, license) >= 0);
  if (at === n || compareToLicense(list[at]!, license) !== 0) return list;
  const rest = withoutIndexes(list, [at]);
  viewAfterEdit(droppedCalsView(list), rest, [at], []);
  return rest;
}

function compareToLicense(d: DroppedCal, license: { licenseId: number; issuedAt: number }): number {
  return d.issuedAt - license.issuedAt || d.cal.licenseId - license.licenseId;
}

/** `list` without the CALs expired at `clock` (the same list when none did). */
export function unexpired(list: DroppedCal[], clock: number): DroppedCal[] {
  const view = droppedCalsView(list);
  if (view.nextExpiry !== null && view.nextExpiry > clock) return list;
  const removed: number[] = [];
  for (let i = 0; i < list.length; i++) if (view.cals[i]!.expiresAt! <= clock) removed.push(i);
  const rest = withoutIndexes(list, removed);
  viewAfterEdit(view, rest, removed, []);
  return rest;
}
