import type { CanonicalEvent, DeadLetter } from '@calwatch/shared';
import type { CollectorServerState } from './server-state';

/**
 * What the collector needs from the log it writes to. The Kafka adapter implements it
 * (kafka-publisher.ts); tests use the in-memory one (memory-publisher.ts).
 */
export interface EventPublisher {
  /**
   * Publishes events and dead letters together; resolves once all are acknowledged.
   * Throws a coded error: retriable when the log is unavailable.
   */
  publish(events: readonly CanonicalEvent[], deadLetters: readonly DeadLetter[]): Promise<void>;
  /** Writes the state of one license server (after its events were acknowledged). */
  saveState(state: CollectorServerState): Promise<void>;
}
