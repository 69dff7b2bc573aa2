import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildChildOrder, buildEventOrder, buildTickOrder, bumpOrder, compareOrderKeys, isAfter } from './order-key';

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);
const id = fc.string({ minLength: 1, maxLength: 12, unit: fc.constantFrom(...'0123456789abcdef-|:.ABZ'.split('')) });

/** Follows a path of output indices from a root order. */
function descend(root: string, path: readonly number[]): string {
  return path.reduce((order, index) => buildChildOrder(order, index), root);
}

describe('order keys', () => {
  it('order events at one instant by event id, as the pipeline compares them', () => {
    fc.assert(
      fc.property(id, id, (a, b) => {
        const expected = a < b ? -1 : a > b ? 1 : 0;
        expect(sign(compareOrderKeys({ at: 5, order: buildEventOrder(a) }, { at: 5, order: buildEventOrder(b) }))).toBe(expected);
      }),
    );
  });

  it('put event time first, then timers before events, timers by stage rank then key', () => {
    expect(compareOrderKeys({ at: 1, order: buildEventOrder('z') }, { at: 2, order: buildTickOrder(0, 'a') })).toBeLessThan(0);
    expect(compareOrderKeys({ at: 2, order: buildTickOrder(2, 'zz') }, { at: 2, order: buildEventOrder('0') })).toBeLessThan(0);
    expect(compareOrderKeys({ at: 2, order: buildTickOrder(0, 'zz') }, { at: 2, order: buildTickOrder(1, 'a') })).toBeLessThan(0);
    expect(compareOrderKeys({ at: 2, order: buildTickOrder(1, 'ab') }, { at: 2, order: buildTickOrder(1, 'abc') })).toBeLessThan(0);
  });

  it('order what one step causes breadth-first: shallower first, then by the indices on the way', () => {
    const root = buildEventOrder('e1');
    const a = descend(root, [1]);
    const b = descend(root, [0, 0]);
    const c = descend(root, [0, 3]);
    const d = descend(root, [2, 0]);
    expect([d, c, b, a, root].sort()).toEqual([root, a, b, c, d]);
    fc.assert(
      fc.property(fc.array(fc.nat(50), { maxLength: 6 }), fc.array(fc.nat(50), { maxLength: 6 }), (p, q) => {
        // Breadth-first: depth first, then the indices on the way, left to right.
        const expected = p.length !== q.length ? sign(p.length - q.length) : sign(compareArrays(p, q));
        expect(sign(compareOrderKeys({ at: 0, order: descend(root, p) }, { at: 0, order: descend(root, q) }))).toBe(expected);
      }),
    );
  });

  it('move a key forward past the last one emitted, yet before any later natural key', () => {
    const last = { at: 10, order: descend(buildEventOrder('e5'), [1]) };
    const bumped = bumpOrder(last);
    const again = bumpOrder(bumped);
    expect(isAfter(bumped, last)).toBe(true);
    expect(isAfter(again, bumped)).toBe(true);
    for (const later of [descend(buildEventOrder('e5'), [2]), descend(buildEventOrder('e5'), [0, 0]), buildEventOrder('e6')]) {
      expect(compareOrderKeys(again, { at: 10, order: later })).toBeLessThan(0);
    }
    expect(compareOrderKeys(again, { at: 11, order: buildTickOrder(0, 'a') })).toBeLessThan(0);
  });

  it('refuses what is not an order', () => {
    expect(() => buildChildOrder('no separator', 0)).toThrow(RangeError);
  });
});

function compareArrays(p: readonly number[], q: readonly number[]): number {
  for (let i = 0; i < Math.min(p.length, q.length); i++) if (p[i] !== q[i]) return p[i]! - q[i]!;
  return p.length - q.length;
}
