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

/** Binary min-heap over the source heads. */
class HeadHeap<T extends Timed> {
  private readonly items: Head<T>[] = [];

  get size(): number {
    return this.items.length;
  }

  push(head: Head<T>): void {
    const items = this.items;
    items.push(head);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): Head<T> | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    items[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < items.length && before(items[left]!, items[smallest]!)) smallest = left;
      if (right < items.length && before(items[right]!, items[smallest]!)) smallest = right;
      if (smallest === i) break;
      [items[i], items[smallest]] = [items[smallest]!, items[i]!];
      i = smallest;
    }
    return top;
  }

  drain(): Head<T>[] {
    return this.items.splice(0);
  }
}

export async function* mergeByTime<T extends Timed>(sources: readonly AsyncIterable<T>[]): AsyncGenerator<T> {
  const heap = new HeadHeap<T>();
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
    heap.drain();
    await Promise.all(
      open.map(async (iterator) => {
        await iterator.return?.(undefined);
      }),
    );
  }
}
