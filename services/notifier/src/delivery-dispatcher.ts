import { NOTIFIER_ERRORS } from './errors';
import { isCalwatchError, type CalwatchError } from '@calwatch/model';
import { retry } from '@calwatch/runtime';
import type { Delivery } from './notifier-core';
import type { TargetSender } from './target-sender';

export interface DeliveryOutcome {
  attempts: number;
  elapsedMs: number;
}

export interface DispatcherOptions {
  senders: ReadonlyMap<string, TargetSender>;
  retry: { minDelayMs: number; maxDelayMs: number; giveUpAfterMs: number };
  onDelivered(delivery: Delivery, outcome: DeliveryOutcome): void;
  /** Rejected for good or still failing after giveUpAfterMs: the caller dead-letters it. */
  onGaveUp(delivery: Delivery, error: CalwatchError, outcome: DeliveryOutcome): void;
  onRetry?(delivery: Delivery, error: unknown, attempt: number, delayMs: number): void;
  random?: () => number;
}

export interface DeliveryDispatcher {
  enqueue(deliveries: readonly Delivery[]): void;
  depth(target: string): number;
  /** Resolves true once every queue is empty, false if `timeoutMs` passed first. */
  drain(timeoutMs: number): Promise<boolean>;
  /** Aborts retries and requests in flight; what was not delivered stays in the caller's outbox. */
  stop(): Promise<void>;
}

/**
 * One FIFO queue and worker per target: a slow or failing target delays only its own
 * messages, and one alert's trigger always reaches a target before its resolve.
 */
export function createDeliveryDispatcher(options: DispatcherOptions): DeliveryDispatcher {
  const queues = new Map<string, Delivery[]>();
  const workers = new Map<string, Promise<void>>();
  const known = new Set<string>();
  const abort = new AbortController();
  let idleWaiters: Array<() => void> = [];

  const idOf = (d: Delivery): string => `${d.target}\u0000${d.dedupKey}\u0000${d.seq}`;

  function notifyIfIdle(): void {
    if (workers.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  async function deliver(sender: TargetSender, delivery: Delivery): Promise<void> {
    const started = Date.now();
    let attempts = 0;
    try {
      await retry(
        async () => {
          attempts++;
          await sender.send(delivery.notification, abort.signal);
        },
        {
          retries: Number.POSITIVE_INFINITY,
          minDelayMs: options.retry.minDelayMs,
          maxDelayMs: options.retry.maxDelayMs,
          maxElapsedMs: options.retry.giveUpAfterMs,
          signal: abort.signal,
          retryAfterMs: (error) => (isCalwatchError(error) ? (error.context['retryAfterMs'] as number | undefined) : undefined),
          onRetry: (error, attempt, delayMs) => options.onRetry?.(delivery, error, attempt, delayMs),
          ...(options.random === undefined ? {} : { random: options.random }),
        },
      );
      options.onDelivered(delivery, { attempts, elapsedMs: Date.now() - started });
    } catch (error) {
      if (abort.signal.aborted) return;
      const last = isCalwatchError(error, 'SHARED_RETRY_EXHAUSTED') ? error.cause : error;
      const reason = last instanceof Error ? last.message : String(last);
      const gaveUp = NOTIFIER_ERRORS.create('NOTIFIER_DELIVERY_GAVE_UP', `target ${sender.name}: gave up after ${attempts} attempt(s) in ${Date.now() - started} ms: ${reason}`, {
        cause: last,
        context: { target: sender.name, attempts, lastCode: isCalwatchError(last) ? last.code : null },
      });
      options.onGaveUp(delivery, gaveUp, { attempts, elapsedMs: Date.now() - started });
    }
  }

  async function work(target: string, queue: Delivery[]): Promise<void> {
    const sender = options.senders.get(target);
    while (queue.length > 0 && !abort.signal.aborted) {
      const delivery = queue[0]!;
      if (sender === undefined) {
        options.onGaveUp(delivery, NOTIFIER_ERRORS.create('NOTIFIER_UNKNOWN_TARGET', `target ${target} is not configured`, { context: { target } }), { attempts: 0, elapsedMs: 0 });
      } else {
        await deliver(sender, delivery);
      }
      if (abort.signal.aborted) return;
      queue.shift();
      known.delete(idOf(delivery));
    }
  }

  function startWorker(target: string, queue: Delivery[]): void {
    if (workers.has(target)) return;
    const running = work(target, queue).finally(() => {
      workers.delete(target);
      // More may have arrived while the last one finished.
      if (queue.length > 0 && !abort.signal.aborted) startWorker(target, queue);
      else notifyIfIdle();
    });
    workers.set(target, running);
  }

  return {
    enqueue(deliveries) {
      if (abort.signal.aborted) return;
      for (const delivery of deliveries) {
        const id = idOf(delivery);
        if (known.has(id)) continue;
        known.add(id);
        let queue = queues.get(delivery.target);
        if (queue === undefined) {
          queue = [];
          queues.set(delivery.target, queue);
        }
        queue.push(delivery);
        startWorker(delivery.target, queue);
      }
    },

    depth(target) {
      return queues.get(target)?.length ?? 0;
    },

    async drain(timeoutMs) {
      if (workers.size === 0) return true;
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<boolean>((resolve) => idleWaiters.push(() => resolve(true)));
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      const result = await Promise.race([idle, timedOut]);
      clearTimeout(timer);
      return result;
    },

    async stop() {
      abort.abort();
      await Promise.allSettled([...workers.values()]);
      queues.clear();
      known.clear();
    },
  };
}
