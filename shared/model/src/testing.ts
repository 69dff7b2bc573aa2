/**
 * Helpers for tests of calwatch's lists and ids (`@calwatch/model/testing`); not part of the
 * model itself.
 */

/** `length` integers in [0, range) from a linear congruential sequence: the same for the same seed. */
export function seededInts(length: number, range: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length }, () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % range;
  });
}
