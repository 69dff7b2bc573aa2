import { MinHeap } from '@calwatch/processor';

/**
 * A k-way merge of time-ordered async sources: the output is ordered by (time, rank,
 * source, position) as long as each source is. Sources yield batches (an event file's are
 * the entries of one parsed chunk), so a source is awaited once per batch, not per entry;
 * holds one batch per source, never a whole input.
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
  /** The source's current batch, and where `entry` is in it. */
  batch: readonly T[];
  index: number;
  iterator: AsyncIterator<readonly T[]>;
}

/** The first entry of the source's next non-empty batch, if any. */
async function nextHead<T>(iterator: AsyncIterator<readonly T[]>, source: number): Promise<Head<T> | undefined> {
  for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
    if (next.value.length > 0) return { entry: next.value[0]!, source, batch: next.value, index: 0, iterator };
  }
  return undefined;
}

function before<T extends Timed>(a: Head<T>, b: Head<T>): boolean {
  if (a.entry.at !== b.entry.at) return a.entry.at < b.entry.at;
  if (a.entry.rank !== b.entry.rank) return a.entry.rank < b.entry.rank;
  if (a.source !== b.source) return a.source < b.source;
  return a.entry.position < b.entry.position;
}

export async function* mergeByTime<T extends Timed>(sources: readonly AsyncIterable<readonly T[]>[]): AsyncGenerator<T> {
  const heap = new MinHeap<Head<T>>(before);
  const open: AsyncIterator<readonly T[]>[] = [];
  try {
    for (const [source, iterable] of sources.entries()) {
      const iterator = iterable[Symbol.asyncIterator]();
      open.push(iterator);
      const first = await nextHead(iterator, source);
      if (first !== undefined) heap.push(first);
    }
    for (let head = heap.pop(); head !== undefined; head = heap.pop()) {
      yield head.entry;
      if (head.index + 1 < head.batch.length) {
        head.index += 1;
        head.entry = head.batch[head.index]!;
        heap.push(head);
      } else {
        const next = await nextHead(head.iterator, head.source);
        if (next !== undefined) heap.push(next);
      }
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
