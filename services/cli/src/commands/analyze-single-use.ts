import type { SingleUseKeys } from '@calwatch/processor/core';

/**
 * Finds the keys that one event alone names, for the pipeline's `singleUse` (pipeline.ts): a
 * key seen a second time joins the repeated ones, the rest are single. Keys are first told
 * apart by a 64-bit hash of their text in typed arrays, not kept as strings: a million-row
 * export names two million keys, nearly all once, and a Set would hold every one of them as a
 * string beside the input. Two keys with one hash count as one key named twice, so a
 * collision only keeps a state that could have gone.
 */
export class RepeatedKeys {
  private readonly repeated = new Set<string>();
  private readonly first: Int32Array;
  private readonly second: Int32Array;
  private readonly used: Uint8Array;
  private readonly mask: number;
  private count = 0;

  /** `expected`: at most how many keys will be added (the table is made for them at half load). */
  constructor(expected: number) {
    let slots = 1024;
    while (slots < expected * 2) slots *= 2;
    this.first = new Int32Array(slots);
    this.second = new Int32Array(slots);
    this.used = new Uint8Array(slots);
    this.mask = slots - 1;
  }

  /** Counts one more event naming `key`. */
  add(key: string): void {
    let a = 0x811c9dc5;
    let b = 0x3c6ef372;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 13;
    }
    a = mix(a);
    b = mix(b ^ key.length);
    for (let slot = a & this.mask; ; slot = (slot + 1) & this.mask) {
      if (this.used[slot] === 0) {
        if (this.count * 2 >= this.mask) throw new Error('RepeatedKeys: more keys than the table was made for');
        this.used[slot] = 1;
        this.first[slot] = a;
        this.second[slot] = b;
        this.count++;
        return;
      }
      if (this.first[slot] === a && this.second[slot] === b) {
        this.repeated.add(key);
        return;
      }
    }
  }

  /** Whether a key was named more than once (or shares its hash with another key). */
  has(key: string): boolean {
    return this.repeated.has(key);
  }
}

/** The single-use keys of a run, from its HWIDs and its by-computer keys counted apart. */
export function singleUseKeys(hwids: RepeatedKeys, computers: RepeatedKeys): SingleUseKeys {
  return {
    hwid: (hwid) => !hwids.has(hwid),
    computer: (key) => !computers.has(key),
  };
}

/** murmur3's finaliser: every bit of the input moves every bit of the output. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
