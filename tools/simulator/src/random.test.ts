import { describe, expect, it } from 'vitest';
import { createRandom, hash32 } from './random';

describe('seeded randomness', () => {
  it('gives the same numbers for the same keys and others for other keys', () => {
    const draw = (...keys: number[]) => {
      const r = createRandom(...keys);
      return Array.from({ length: 5 }, () => r.uint32());
    };
    expect(draw(42, 1, 7)).toEqual(draw(42, 1, 7));
    expect(draw(42, 1, 7)).not.toEqual(draw(42, 1, 8));
    expect(draw(42, 1, 7)).not.toEqual(draw(43, 1, 7));
    expect(hash32(1, 2)).not.toBe(hash32(2, 1));
  });

  it('draws integers over the whole inclusive range, roughly uniformly', () => {
    const r = createRandom(9);
    const counts = new Map<number, number>();
    for (let i = 0; i < 38_000; i += 1) {
      const v = r.int(52, 89);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 38 }, (_, i) => 52 + i));
    for (const n of counts.values()) expect(n).toBeGreaterThan(800);
  });

  it('does not repeat streams across many keys (no 32-bit seed collisions)', () => {
    const seen = new Set<string>();
    for (let device = 0; device < 200_000; device += 1) {
      const r = createRandom(42, 4, device, 0);
      seen.add(`${r.uint32()}-${r.uint32()}`);
    }
    expect(seen.size).toBe(200_000);
  });
});
