/**
 * Seeded randomness. Every stream is keyed by what it is for (seed, purpose, device,
 * day...), so a device's schedule does not depend on how many other devices exist or in
 * which order they were visited: same keys, same numbers.
 */

function mix(h: number, k: number): number {
  let x = Math.imul(k, 0xcc9e2d51);
  x = (x << 15) | (x >>> 17);
  x = Math.imul(x, 0x1b873593);
  let y = h ^ x;
  y = (y << 13) | (y >>> 19);
  return (Math.imul(y, 5) + 0xe6546b64) | 0;
}

function finalize(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Murmur3-style hash of a sequence of 32-bit integers. */
export function hash32(...keys: readonly number[]): number {
  let h = 0x9747b28c;
  for (const key of keys) h = mix(h, key | 0);
  return finalize(h ^ keys.length);
}

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  uint32(): number;
  chance(probability: number): boolean;
}

/**
 * sfc32 with a 128-bit state derived from the keys: four independently hashed words, so
 * two streams only coincide if all four collide (a 32-bit seed would collide at scale).
 * A class, not closures: millions are made per run.
 */
class Sfc32 implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(keys: readonly number[]) {
    this.a = hash32(...keys, 0x51);
    this.b = hash32(...keys, 0x52);
    this.c = hash32(...keys, 0x53);
    this.d = hash32(...keys, 0x54) | 1;
    for (let i = 0; i < 12; i += 1) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  next(): number {
    return this.uint32() / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }
}

export function createRandom(...keys: readonly number[]): Random {
  return new Sfc32(keys);
}

/** Purposes of random streams; part of every key so streams never overlap. */
export const STREAM = {
  fleet: 1,
  device: 2,
  day: 3,
  hwid: 4,
  server: 5,
  names: 6,
} as const;
