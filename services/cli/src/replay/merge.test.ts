import { describe, expect, it } from 'vitest';
import { mergeByTime, type Timed } from './merge';

interface Entry extends Timed {
  id: string;
}

async function* source(entries: Entry[], closed: string[], name: string): AsyncGenerator<Entry> {
  try {
    yield* entries;
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
