import { distinctAscending } from './sorted-ids';

/** How many entries any list in a published finding or enriched event holds at most. */
export const PUBLISHED_LIST_MAX = 50;

/**
 * Published records carry counts and at most PUBLISHED_LIST_MAX entries per list, so their
 * size does not follow the number of devices, licenses or reissues behind them.
 *
 * These run on every finding update with lists of up to a few hundred entries (a cloned
 * image's licenses), so each takes the already-sorted, duplicate-free input the core
 * mostly passes in one pass, and sorts a typed copy otherwise.
 */

/** The newest (highest: the license server numbers CALs as it issues them) ids, ascending. */
export function newestIds(ids: readonly number[], max = PUBLISHED_LIST_MAX): number[] {
  const sorted = isStrictlyAscending(ids) ? ids : distinctAscending(ids);
  return sorted.length <= max ? sorted.slice() : sorted.slice(sorted.length - max);
}

/** The first names in sort order: stable between updates, so a list changes only when its head does. */
export function firstNames(names: readonly string[], max = PUBLISHED_LIST_MAX): string[] {
  const sorted = isStrictlyAscending(names) ? names : [...new Set(names)].sort();
  return sorted.slice(0, max);
}

export function countDistinct<T>(items: readonly T[]): number {
  if (isStrictlyAscending(items as readonly unknown[] as readonly (number | string)[])) return items.length;
  if (items.length > 0 && typeof items[0] === 'number') return distinctAscending(items as readonly unknown[] as readonly number[]).length;
  return new Set(items).size;
}

function isStrictlyAscending(list: readonly (number | string)[]): boolean {
  for (let i = 1; i < list.length; i++) if (!(list[i - 1]! < list[i]!)) return false;
  return true;
}

