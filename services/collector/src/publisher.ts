import type { CanonicalEvent, DeadLetter } from '@calwatch/model';
import type { StateWrite } from './state-entries';

/**
 * What the collector needs from the log it writes to. The Kafka adapter implements it
 * (kafka-publisher.ts); tests use the in-memory one (testing/memory-publisher.ts).
 */
export interface EventPublisher {
  /**
   * Publishes events and dead letters together; resolves once all are acknowledged.
   * Throws a coded error: retriable when the log is unavailable.
   */
  publish(events: readonly CanonicalEvent[], deadLetters: readonly DeadLetter[]): Promise<void>;
  /**
   * Writes the changed state entries of one license server (after its events were
   * acknowledged): the license entries first, the head once they are all acknowledged.
   */
  saveState(write: StateWrite): Promise<void>;
}
