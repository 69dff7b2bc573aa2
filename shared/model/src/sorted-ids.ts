/**
 * Distinct ids in ascending order. License and key pack ids are unsigned 32-bit integers (the
 * license server's own numbering), and the core sorts lists of a few hundred of them on every
 * update of a cloned image's or a churning name's finding: a typed-array sort of 500 took
 * about 25 µs, a radix sort of the same (four passes of one byte each over a reused buffer)
 * about 4. Lists holding anything else (negative, fractional, larger) take the typed sort.
 */

/** Byte counts of the four passes, side by side; reused (one call at a time: no re-entry). */
const counts = new Uint32Array(4 * 256);
let scratchA = new Uint32Array(1024);
let scratchB = new Uint32Array(1024);

export function distinctAscending(ids: readonly number[]): number[] {
  const n = ids.length;
  if (n < 2) return n === 0 ? [] : [ids[0]!];
  const sorted = radixSorted(ids) ?? Float64Array.from(ids).sort();
  const out: number[] = [sorted[0]!];
  for (let i = 1; i < n; i++) if (sorted[i] !== sorted[i - 1]) out.push(sorted[i]!);
  return out;
}

/** `ids` sorted ascending in place (duplicates kept), and returned. */
export function sortAscendingInPlace(ids: number[]): number[] {
  if (ids.length < 2) return ids;
  const sorted = radixSorted(ids) ?? Float64Array.from(ids).sort();
  for (let i = 0; i < ids.length; i++) ids[i] = sorted[i]!;
  return ids;
}

/**
 * The ids sorted, in a scratch buffer valid until the next call (its first `ids.length`
 * entries); null when an id is not an unsigned 32-bit integer.
 */
function radixSorted(ids: readonly number[]): Uint32Array | null {
  const n = ids.length;
  if (scratchA.length < n) {
    scratchA = new Uint32Array(2 * n);
    scratchB = new Uint32Array(2 * n);
  }
  let from = scratchA;
  let to = scratchB;
  counts.fill(0);
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    if (id >>> 0 !== id) return null;
    from[i] = id;
    counts[id & 255]!++;
    counts[256 + ((id >>> 8) & 255)]!++;
    counts[512 + ((id >>> 16) & 255)]!++;
    counts[768 + (id >>> 24)]!++;
  }
  for (let pass = 0; pass < 4; pass++) {
    const base = pass * 256;
    const shift = pass * 8;
    // Every id with the same byte here (the high bytes of ids from one server): nothing moves.
    if (counts[base + ((from[0]! >>> shift) & 255)] === n) continue;
    let start = 0;
    for (let digit = 0; digit < 256; digit++) {
      const count = counts[base + digit]!;
      counts[base + digit] = start;
      start += count;
    }
    for (let i = 0; i < n; i++) {
      const id = from[i]!;
      to[counts[base + ((id >>> shift) & 255)]!++] = id;
    }
    const swap = from;
    from = to;
    to = swap;
  }
  return from;
}
