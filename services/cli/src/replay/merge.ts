import { MinHeap } from '@calwatch/processor';

/**
 * A k-way merge of time-ordered async sources: the output is ordered by (time, rank,
 * source, position) as long as each source is. Holds one entry per source, never a
 * whole input.
 */
export interface Timed {
  /** Event time in ms; -Infinity sorts first (e.g. a rejection before any event). */
  at: number;
  /** Breaks ties at one instant: lower first (a snapshot before the events of that instant). */
  rank: number;
  /** Order within the source. */
  position: number;
}

interface Head<T> {
  entry: T;
  source: number;
  iterator: AsyncIterator<T>;
}

function before<T extends Timed>(a: Head<T>, b: Head<T>): boolean {
  if (a.entry.at !== b.entry.at) return a.entry.at < b.entry.at;
  if (a.entry.rank !== b.entry.rank) return a.entry.rank < b.entry.rank;
  if (a.source !== b.source) return a.source < b.source;
  return a.entry.position < b.entry.position;
}

export async function* mergeByTime<T extends Timed>(sources: readonly AsyncIterable<T>[]): AsyncGenerator<T> {
  const heap = new MinHeap<Head<T>>(before);
  const open: AsyncIterator<T>[] = [];
  try {
    for (const [source, iterable] of sources.entries()) {
      const iterator = iterable[Symbol.asyncIterator]();
      open.push(iterator);
      const first = await iterator.next();
      if (first.done !== true) heap.push({ entry: first.value, source, iterator });
    }
    for (let head = heap.pop(); head !== undefined; head = heap.pop()) {
      yield head.entry;
      const next = await head.iterator.next();
      if (next.done !== true) heap.push({ entry: next.value, source: head.source, iterator: head.iterator });
    }
  } finally {
    // A consumer that stops early (interrupt) must still close every file.
    await Promise.all(
      open.map(async (iterator) => {
        await iterator.return?.(undefined);
      }),
    );
  }
}
