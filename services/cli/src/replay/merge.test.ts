import { describe, expect, it } from 'vitest';
import { mergeByTime, type Timed } from './merge';

interface Entry extends Timed {
  id: string;
}

/** Yields `entries` in batches of `size` (one entry each unless given). */
async function* source(entries: Entry[], closed: string[], name: string, size = 1): AsyncGenerator<Entry[]> {
  try {
    for (let i = 0; i < entries.length; i += size) yield entries.slice(i, i + size);
  } finally {
    closed.push(name);
  }
}

const e = (id: string, at: number, rank = 2, position = 0): Entry => ({ id, at, rank, position });

async function collect(iterable: AsyncIterable<Entry>, limit = Infinity): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of iterable) {
    out.push(entry.id);
    if (out.length >= limit) break;
  }
  return out;
}

describe('mergeByTime', () => {
  it('orders by time, then rank, then source, then position', async () => {
    const closed: string[] = [];
    const merged = mergeByTime([
      source([e('a1', 1, 2, 1), e('a2', 5, 2, 2), e('a3', 5, 2, 3)], closed, 'a'),
      source([e('snap', 5, 0)], closed, 'b'),
      source([e('c1', Number.NEGATIVE_INFINITY, 2, 1), e('c2', 2, 2, 2), e('c3', 5, 2, 3), e('c4', 9, 2, 4)], closed, 'c'),
    ]);
    expect(await collect(merged)).toEqual(['c1', 'a1', 'c2', 'snap', 'a2', 'a3', 'c3', 'c4']);
    expect(closed.sort()).toEqual(['a', 'b', 'c']);
  });

  it('merges entry by entry across batches, skipping empty ones', async () => {
    const closed: string[] = [];
    const merged = mergeByTime([
      source([e('a1', 1, 2, 1), e('a2', 3, 2, 2), e('a3', 5, 2, 3), e('a4', 7, 2, 4)], closed, 'a', 3),
      (async function* () {
        yield [];
        yield* source([e('b1', 2, 2, 1), e('b2', 4, 2, 2), e('b3', 6, 2, 3)], closed, 'b', 2);
        yield [];
      })(),
    ]);
    expect(await collect(merged)).toEqual(['a1', 'b1', 'a2', 'b2', 'a3', 'b3', 'a4']);
    expect(closed.sort()).toEqual(['a', 'b']);
  });

  it('closes every source when the consumer stops early', async () => {
    const closed: string[] = [];
    const merged = mergeByTime([source([e('a1', 1), e('a2', 3)], closed, 'a'), source([e('b1', 2), e('b2', 4)], closed, 'b')]);
    expect(await collect(merged, 2)).toEqual(['a1', 'b1']);
    expect(closed.sort()).toEqual(['a', 'b']);
  });

  it('yields nothing for no sources or empty ones', async () => {
    expect(await collect(mergeByTime<Entry>([]))).toEqual([]);
    expect(await collect(mergeByTime([source([], [], 'x')]))).toEqual([]);
  });
});
