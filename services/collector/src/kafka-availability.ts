import { isCalwatchError } from '@calwatch/model';
import type { EventPublisher } from './publisher';

/**
 * Whether Kafka is taking records, learnt from the outcome of each publish. After a
 * failure, requests are refused (503) for `retryIntervalMs`; then one is let through to
 * try again, and so on until one succeeds.
 */
export interface KafkaAvailability {
  /** True when a request may try to publish now. */
  tryEnter(): boolean;
  /** Like tryEnter without claiming the probe: for readiness checks. */
  isHealthy(): boolean;
  markOk(): void;
  markFailed(): void;
}

export interface KafkaAvailabilityOptions {
  retryIntervalMs: number;
  /** Failing for longer than this (no success in between) is no longer an outage to ride out. */
  outageBudgetMs?: number;
  /** Called once when a failure comes after the budget ran out: the process should exit non-zero. */
  onOutageExceeded?: (failingForMs: number) => void;
  now?: () => number;
}

export function createKafkaAvailability(options: KafkaAvailabilityOptions): KafkaAvailability {
  const now = options.now ?? Date.now;
  let failed = false;
  let retryAt = 0;
  let failingSince: number | undefined;
  let exceeded = false;
  return {
    tryEnter() {
      if (!failed) return true;
      const at = now();
      if (at < retryAt) return false;
      retryAt = at + options.retryIntervalMs;
      return true;
    },
    isHealthy: () => !failed,
    markOk() {
      failed = false;
      failingSince = undefined;
    },
    markFailed() {
      const at = now();
      failed = true;
      retryAt = at + options.retryIntervalMs;
      failingSince ??= at;
      const failingForMs = at - failingSince;
      if (!exceeded && options.outageBudgetMs !== undefined && failingForMs >= options.outageBudgetMs) {
        exceeded = true;
        options.onOutageExceeded?.(failingForMs);
      }
    },
  };
}

/** Feeds every publish outcome into the availability; retriable failures mean "unavailable". */
export function withAvailability(publisher: EventPublisher, availability: KafkaAvailability): EventPublisher {
  const observe = async (operation: Promise<void>): Promise<void> => {
    try {
      await operation;
      availability.markOk();
    } catch (error) {
      if (isCalwatchError(error) && error.retriable) availability.markFailed();
      throw error;
    }
  };
  return {
    publish: (events, deadLetters) => observe(publisher.publish(events, deadLetters)),
    saveState: (write) => observe(publisher.saveState(write)),
  };
}
