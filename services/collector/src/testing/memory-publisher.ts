import type { CanonicalEvent, DeadLetter } from '@calwatch/model';
import type { EventPublisher } from '../publisher';
import type { StateWrite } from '../state-entries';

/**
 * An EventPublisher that keeps what it was given, for tests and benchmarks of the parts
 * above Kafka. `failNext` and `hold` simulate an unavailable or slow log.
 */
export interface MemoryPublisher extends EventPublisher {
  readonly events: CanonicalEvent[];
  readonly deadLetters: DeadLetter[];
  /** State writes, in order: the changed license entries and the head of each. */
  readonly writes: StateWrite[];
  /** Calls that will throw this error instead of publishing (one per call). */
  failNext(error: Error, times?: number): void;
  /** Makes publishes wait until the returned function is called. */
  hold(): () => void;
  /** Number of publish/saveState calls so far. */
  readonly calls: number;
}

export function createMemoryPublisher(): MemoryPublisher {
  const events: CanonicalEvent[] = [];
  const deadLetters: DeadLetter[] = [];
  const writes: StateWrite[] = [];
  const failures: Error[] = [];
  let gate: Promise<void> = Promise.resolve();
  let calls = 0;

  async function enter(): Promise<void> {
    calls += 1;
    await gate;
    const failure = failures.shift();
    if (failure !== undefined) throw failure;
  }

  return {
    events,
    deadLetters,
    writes,
    async publish(newEvents, newDeadLetters) {
      await enter();
      for (const event of newEvents) events.push(event);
      for (const deadLetter of newDeadLetters) deadLetters.push(deadLetter);
    },
    async saveState(write) {
      await enter();
      writes.push(write);
    },
    failNext(error, times = 1) {
      for (let i = 0; i < times; i++) failures.push(error);
    },
    hold() {
      let release!: () => void;
      gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      return () => {
        gate = Promise.resolve();
        release();
      };
    },
    get calls() {
      return calls;
    },
  };
}
