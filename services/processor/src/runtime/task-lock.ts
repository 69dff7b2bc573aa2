/**
 * One unit of work at a time per task: the consumer's batches and the punctuator both
 * touch a task's state, and their writes must not interleave.
 */
export class TaskLock {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;

  /** True when work holds or waits for the lock (the punctuator then skips the task). */
  get busy(): boolean {
    return this.queued > 0;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    this.queued++;
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    try {
      await previous;
      return await work();
    } finally {
      this.queued--;
      release();
    }
  }
}
