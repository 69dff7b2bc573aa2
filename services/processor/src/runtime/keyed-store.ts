import { MinHeap } from '@calwatch/shared';
import type { StageAdapter } from './stage-adapters';

export interface DueTimer {
  at: number;
  key: string;
}

/**
 * The states of one task's keys, the timers their `dueAt` asks for, and which keys
 * changed since the last changelog write. Timers follow the pipeline: one per key at its
 * current due time, stale heap entries skipped, (time, key) order.
 */
export class KeyedStore {
  private readonly states = new Map<string, unknown>();
  private readonly dirty = new Set<string>();
  private readonly timers = new MinHeap<DueTimer>((a, b) => a.at < b.at || (a.at === b.at && a.key < b.key));
  private readonly due = new Map<string, number>();

  constructor(private readonly stage: StageAdapter) {}

  get size(): number {
    return this.states.size;
  }

  get(key: string): unknown {
    return this.states.get(key);
  }

  /** Stores a stage's new state (undefined deletes the key) and re-arms its timer. */
  put(key: string, state: unknown): void {
    if (state === undefined) this.states.delete(key);
    else this.states.set(key, state);
    this.dirty.add(key);
    this.schedule(key);
  }

  /** Restore: sets a state read back from the changelog, not marked dirty. */
  load(key: string, state: unknown): void {
    if (state === undefined) this.states.delete(key);
    else this.states.set(key, state);
  }

  /** After a restore: arms every key's timer. */
  scheduleAll(): void {
    for (const key of this.states.keys()) this.schedule(key);
  }

  private schedule(key: string): void {
    const state = this.states.get(key);
    const at = state === undefined ? null : this.stage.dueAt(state);
    if (at === null) {
      this.due.delete(key);
      return;
    }
    if (this.due.get(key) === at) return;
    this.due.set(key, at);
    this.timers.push({ at, key });
  }

  /** The next live timer, without removing it. */
  peekTimer(): DueTimer | undefined {
    for (let next = this.timers.peek(); next !== undefined; next = this.timers.peek()) {
      if (this.due.get(next.key) === next.at) return next;
      this.timers.pop();
    }
    return undefined;
  }

  /** Removes the timer peekTimer returned: it fires now. */
  takeTimer(timer: DueTimer): void {
    const top = this.timers.pop();
    if (top !== timer) throw new Error('takeTimer: not the next timer');
    this.due.delete(timer.key);
  }

  /** The keys changed since the last call, with their state (undefined: deleted). */
  takeDirty(): Array<[string, unknown]> {
    const changed: Array<[string, unknown]> = [];
    for (const key of this.dirty) changed.push([key, this.states.get(key)]);
    this.dirty.clear();
    return changed;
  }

  keys(): IterableIterator<string> {
    return this.states.keys();
  }
}
