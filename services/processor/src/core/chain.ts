import type { CoreConfig } from './config';
import { distinctAscending } from '@calwatch/model';
import { type LicenseRecord, holdsCalAt, isPermanent, isValidAt } from './license-record';
import type { Candidate } from './messages';
import { daysToMs } from './time';

/** What identifies a license in a chain. */
type Instance = Pick<LicenseRecord, 'server' | 'licenseId' | 'issuedAt'>;

/** Chain order: by issue time, then licenseId, so late events land where they belong. */
export function compareRecords(a: Instance, b: Instance): number {
  return a.issuedAt - b.issuedAt || a.licenseId - b.licenseId || (a.server < b.server ? -1 : a.server > b.server ? 1 : 0);
}

/**
 * Where `instance` is or would go in a chain (kept in chain order): the first record not
 * before it. A cloned image's chain holds hundreds of licenses and every reissue looks its
 * new license up; a walk made that quadratic in the episode.
 */
function placeOf(chain: readonly LicenseRecord[], instance: Instance): number {
  const n = chain.length;
  // The usual case, a license newer than any: after the last, one comparison.
  if (n === 0 || compareRecords(chain[n - 1]!, instance) < 0) return n;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareRecords(chain[mid]!, instance) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The chain with `record` replacing its instance or inserted in order, as a new array of
 * exactly the right size (chains are copied on write, and most hold one or two records).
 */
export function withRecord(chain: readonly LicenseRecord[], record: LicenseRecord): LicenseRecord[] {
  const n = chain.length;
  const at = placeOf(chain, record);
  if (at < n && compareRecords(chain[at]!, record) === 0) {
    const copy = chain.slice();
    copy[at] = record;
    return copy;
  }
  return insertedAt(chain, at, record);
}

/**
 * `list` with `value` inserted at index `at` (its length: appended), as a new array of exactly
 * its size, the elements moved as blocks. `toSpliced` does both; a copy then a splice grew the
 * full copy once more (half again its size, copied again): on a list of 500, 4.5 times slower
 * with half as much again allocated, an element-by-element build slower still. Chains, the
 * standings' lists and the summaries' sorted ids all grow this way on every reissue.
 */
export function insertedAt<T>(list: readonly T[], at: number, value: T): T[] {
  return list.toSpliced(at, 0, value);
}

export function findRecord(chain: readonly LicenseRecord[], instance: Instance): LicenseRecord | undefined {
  const at = placeOf(chain, instance);
  return at < chain.length && compareRecords(chain[at]!, instance) === 0 ? chain[at] : undefined;
}

/** What a caller may know of a chain (its summary: chain-summary.ts) that spares pruneChain a walk. */
export interface ChainBounds {
  /** The earliest end (or else expiry) of a license in the chain (Infinity: none). */
  earliestEnd: number;
  /** How many of its licenses are not permanent CALs. */
  temporaries: number;
}

/**
 * Keeps a chain bounded: forgets licenses ended or expired longer than the retention ago;
 * over the cap, drops the oldest ended/expired ones, then the oldest temporaries, and only
 * then the oldest permanent CALs, since valid permanent CALs are what leaks are made of.
 */
export function pruneChain(chain: LicenseRecord[], clock: number, config: CoreConfig, known?: ChainBounds): LicenseRecord[] {
  const horizon = clock - daysToMs(config.state.retentionDays);
  const max = config.state.maxLicensesPerKey;
  const earliestEnd = known?.earliestEnd;
  // Runs on every message: the common outcome, nothing to forget, allocates nothing. A caller
  // that keeps the chain's earliest end (a cloned image's hundreds of licenses) spares the walk.
  let all = earliestEnd !== undefined && earliestEnd >= horizon;
  if (!all) {
    all = true;
    for (let i = 0; i < chain.length && all; i++) all = isRetained(chain[i]!, horizon);
  }
  if (all && chain.length <= max) return chain;
  let kept = all ? chain : chain.filter((r) => isRetained(r, horizon));
  if (kept.length === max + 1) {
    const allValid = earliestEnd !== undefined && earliestEnd > clock;
    // A chain of valid permanent CALs only (a cloned image at the cap, once per reissue) drops
    // its oldest: known from the count of temporaries without reading the 500 licenses.
    const drop = allValid && kept === chain && known!.temporaries === 0 ? 0 : firstExpendable(kept, clock, allValid);
    return withoutIndexes(kept, [drop]);
  }
  for (const expendable of [(r: LicenseRecord) => !isValidAt(r, clock), (r: LicenseRecord) => !holdsCalAt(r, clock)]) {
    if (kept.length <= max) break;
    const drop = new Set(kept.filter(expendable).slice(0, kept.length - max));
    kept = kept.filter((r) => !drop.has(r));
  }
  if (kept.length > max) kept = kept.slice(kept.length - max);
  return kept;
}

/**
 * What pruneChain's general path drops when one license is over the cap (a chain at the cap
 * gains one per reissue): the first no longer valid, else the first not holding a CAL (a
 * temporary), else the oldest. One pass, instead of the sets and filters of the general case;
 * a chain known to hold no ended or expired license (`allValid`) is read for its status only.
 */
function firstExpendable(chain: readonly LicenseRecord[], clock: number, allValid: boolean): number {
  let firstTemporary = -1;
  for (let i = 0; i < chain.length; i++) {
    const r = chain[i]!;
    if (allValid) {
      if (!isPermanent(r.status)) return i;
    } else if (!isValidAt(r, clock)) return i;
    else if (firstTemporary < 0 && !isPermanent(r.status)) firstTemporary = i;
  }
  return Math.max(firstTemporary, 0);
}

/**
 * `list` without the items at `removed` (ascending indexes): one copy, then the few removed
 * spliced out, last first (a copy item by item costs ten times a copy of the block, and a step
 * removes one or two of hundreds).
 */
export function withoutIndexes<T>(list: readonly T[], removed: readonly number[]): T[] {
  if (removed.length === 1 && removed[0] === 0) return list.slice(1);
  if (removed.length > 8) {
    const gone = new Set(removed);
    return list.filter((_, i) => !gone.has(i));
  }
  const out = list.slice();
  for (let r = removed.length - 1; r >= 0; r--) out.splice(removed[r]!, 1);
  return out;
}

function isRetained(r: LicenseRecord, horizon: number): boolean {
  return retainedUntil(r) >= horizon;
}

/** What pruneChain keeps a license until: its end, else its expiry (Infinity: kept). */
export function retainedUntil(r: LicenseRecord): number {
  return r.endedAt ?? r.expiresAt ?? Infinity;
}

/**
 * A license as a revoke candidate. Records are replaced, never changed, so each is made
 * once: an open leak re-derives its hundreds of candidates on every reissue.
 */
const candidates = new WeakMap<LicenseRecord, Candidate>();

export function candidateOf(r: LicenseRecord): Candidate {
  let c = candidates.get(r);
  if (c === undefined) candidates.set(r, (c = { licenseId: r.licenseId, keyPackId: r.keyPackId, expiresAt: r.expiresAt }));
  return c;
}

/** The earliest expiry after `clock` among CALs that count now, for timers. */
export function nextExpiry(records: Iterable<LicenseRecord>, clock: number): number | null {
  let next: number | null = null;
  for (const r of records) {
    if (r.expiresAt !== null && r.expiresAt > clock && isValidAt(r, clock)) {
      if (next === null || r.expiresAt < next) next = r.expiresAt;
    }
  }
  return next;
}

/**
 * Splits the valid licenses of a group of devices into the one each device uses (its
 * newest valid license) and the rest; the permanent rest are what a revoke would return.
 */
export function splitInUse(
  records: readonly LicenseRecord[],
  deviceOf: (r: LicenseRecord) => string,
  clock: number,
): { inUse: LicenseRecord[]; surplus: LicenseRecord[] } {
  const newest = new Map<string, LicenseRecord>();
  for (const r of records) {
    if (!isValidAt(r, clock)) continue;
    const device = deviceOf(r);
    const current = newest.get(device);
    if (current === undefined || compareRecords(current, r) < 0) newest.set(device, r);
  }
  const inUse = new Set(newest.values());
  const surplus = records.filter((r) => !inUse.has(r) && holdsCalAt(r, clock));
  return { inUse: [...inUse], surplus };
}

export function uniqueSorted<T extends string | number>(values: Iterable<T>): T[] {
  if (Array.isArray(values)) {
    // Lists taken from a chain are often in order already (licenseIds, one keyPackId):
    // one pass then, instead of a set and a sort on every message.
    const list = values as readonly T[];
    let ordered = true;
    for (let i = 1; i < list.length && ordered; i++) ordered = list[i - 1]! <= list[i]!;
    if (ordered) {
      const out: T[] = [];
      for (let i = 0; i < list.length; i++) if (i === 0 || list[i] !== list[i - 1]) out.push(list[i]!);
      return out;
    }
  }
  if (Array.isArray(values) && typeof values[0] === 'number' && values.every(isFiniteNumber)) {
    // Numbers (ids) without a comparator call per comparison.
    return distinctAscending(values as readonly number[]) as T[];
  }
  if (Array.isArray(values)) {
    // A few distinct values among many (the names of a cloned image's chain): a short list
    // is cheaper than a set.
    const list = values as readonly T[];
    const seen: T[] = [];
    for (let i = 0; i < list.length && seen.length <= 8; i++) if (!seen.includes(list[i]!)) seen.push(list[i]!);
    if (seen.length <= 8) return seen.sort(ascending);
  }
  return [...new Set(values)].sort(ascending);
}

function isFiniteNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value);
}

function ascending<T extends string | number>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The first index in [0, length) at which `reached(i)` holds, for a predicate that is false and
 * then true along a sorted list (length: never): a binary search.
 */
export function firstIndexWhere(length: number, reached: (i: number) => boolean): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (reached(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Two lists of ids with the same ids in the same order. */
export function sameIds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A sorted, duplicate-free list with `value` in it: the same list when it is there already. */
export function withSorted<T extends string | number>(list: readonly T[], value: T): T[] {
  const lo = firstIndexWhere(list.length, (i) => list[i]! >= value);
  if (lo < list.length && list[lo] === value) return list as T[];
  return insertedAt(list, lo, value);
}

/** A sorted, duplicate-free list without `values`: the same list when none is in it. */
export function withoutSorted<T extends string | number>(list: readonly T[], values: readonly T[]): T[] {
  if (values.length > 8) {
    const gone = new Set(values);
    return list.filter((v) => !gone.has(v));
  }
  // A few values (a churning name drops one HWID per boot): found by binary search.
  let out: T[] | undefined;
  for (const value of values) {
    const from = out ?? list;
    const at = firstIndexWhere(from.length, (i) => from[i]! >= value);
    if (at < from.length && from[at] === value) (out ??= list.slice()).splice(at, 1);
  }
  return out ?? (list as T[]);
}

/**
 * `a` followed by `b`, as a new list: a copy of `a` (one block) and `b` pushed. Not
 * Array.prototype.concat, which is many times slower in a process that loaded
 * @elastic/elasticsearch (see eslint.config.js).
 */
export function joined<T>(a: readonly T[], b: readonly T[]): T[] {
  const out = a.slice();
  for (let i = 0; i < b.length; i++) out.push(b[i]!);
  return out;
}

/** The union of two sorted, duplicate-free lists, sorted and duplicate-free: one merge walk. */
export function mergeSorted<T extends string | number>(a: readonly T[], b: readonly T[]): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x <= y) {
      out.push(x);
      i++;
      if (x === y) j++;
    } else {
      out.push(y);
      j++;
    }
  }
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}
