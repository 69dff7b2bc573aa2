
/** How many entries any list in a published finding or enriched event holds at most. */
export const PUBLISHED_LIST_MAX = 50;

/**
 * Published records carry counts and at most PUBLISHED_LIST_MAX entries per list, so their
 * size does not follow the number of devices, licenses or reissues behind them.
 */

/** The newest (highest: the license server numbers CALs as it issues them) ids, ascending. */
export function newestIds(ids: readonly number[], max = PUBLISHED_LIST_MAX): number[] {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  return sorted.length <= max ? sorted : sorted.slice(sorted.length - max);
}

/** The first names in sort order: stable between updates, so a list changes only when its head does. */
export function firstNames(names: readonly string[], max = PUBLISHED_LIST_MAX): string[] {
  const sorted = [...new Set(names)].sort();
  return sorted.length <= max ? sorted : sorted.slice(0, max);
}

export function countDistinct<T>(items: readonly T[]): number {
  return new Set(items).size;
}
