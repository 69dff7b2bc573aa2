import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MinHeap } from './min-heap';

interface Entry {
  at: number;
  id: number;
}

const byTimeThenId = (a: Entry, b: Entry): boolean => a.at < b.at || (a.at === b.at && a.id < b.id);

describe('MinHeap', () => {
  it('pops in the order it was given, whatever the push order', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ at: fc.integer({ min: 0, max: 20 }), id: fc.integer({ min: 0, max: 1_000 }) })), (entries) => {
        const heap = new MinHeap<Entry>(byTimeThenId);
        for (const entry of entries) heap.push(entry);
        expect(heap.size).toBe(entries.length);
        const popped: Entry[] = [];
        for (let entry = heap.pop(); entry !== undefined; entry = heap.pop()) popped.push(entry);
        expect(popped).toEqual([...entries].sort((a, b) => a.at - b.at || a.id - b.id));
        expect(heap.size).toBe(0);
      }),
    );
  });

  it('keeps its order when pushes and pops interleave', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.integer({ min: -50, max: 50 }), { nil: undefined })), (steps) => {
        const heap = new MinHeap<number>((a, b) => a < b);
        const model: number[] = [];
        for (const step of steps) {
          if (step === undefined) {
            model.sort((a, b) => a - b);
            expect(heap.pop()).toBe(model.shift());
          } else {
            heap.push(step);
            model.push(step);
          }
          expect(heap.peek()).toBe(model.length === 0 ? undefined : Math.min(...model));
        }
        expect(heap.toArray().sort((a, b) => a - b)).toEqual(model.sort((a, b) => a - b));
      }),
    );
  });

  it('is empty at first and after its last entry left', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    expect(heap.peek()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
    heap.push(3);
    expect(heap.pop()).toBe(3);
    expect(heap.size).toBe(0);
    expect(heap.toArray()).toEqual([]);
  });
});
