import type { CalwatchError } from '@calwatch/model';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDeliveryDispatcher, type DispatcherOptions } from './delivery-dispatcher';
import { NOTIFIER_ERRORS } from './errors';
import type { Notification } from './notification';
import type { Delivery } from './notifier-core';
import type { TargetSender } from './target-sender';

function delivery(target: string, seq: number, dedupKey = 'calwatch/test/k'): Delivery {
  const notification = { dedupKey, seq, action: 'trigger' } as Notification;
  return { dedupKey, seq, target, notification };
}

interface Recorded {
  attempts: Array<{ target: string; seq: number; at: number }>;
  delivered: Array<{ target: string; seq: number; at: number }>;
  gaveUp: Array<{ target: string; seq: number; error: CalwatchError }>;
}

function sender(name: string, behaviour: (attempt: number, seq: number) => void, recorded: Recorded): TargetSender {
  const counts = new Map<number, number>();
  return {
    name,
    type: 'webhook',
    async send(notification, signal) {
      const attempt = (counts.get(notification.seq) ?? 0) + 1;
      counts.set(notification.seq, attempt);
      recorded.attempts.push({ target: name, seq: notification.seq, at: Date.now() });
      // A send takes 5 ms of the (fake) clock.
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (signal.aborted) throw signal.reason;
      behaviour(attempt, notification.seq);
    },
  };
}

function setup(senders: TargetSender[], recorded: Recorded, retry: DispatcherOptions['retry'] = { minDelayMs: 10, maxDelayMs: 40, giveUpAfterMs: 300 }) {
  return createDeliveryDispatcher({
    senders: new Map(senders.map((s) => [s.name, s])),
    retry,
    onDelivered: (d) => recorded.delivered.push({ target: d.target, seq: d.seq, at: Date.now() }),
    onGaveUp: (d, error) => recorded.gaveUp.push({ target: d.target, seq: d.seq, error }),
  });
}

const fresh = (): Recorded => ({ attempts: [], delivered: [], gaveUp: [] });
const unavailable = () => {
  throw NOTIFIER_ERRORS.create('NOTIFIER_TARGET_UNAVAILABLE', 'target down: HTTP 500', { context: { status: 500 } });
};

/** Drains under the fake clock: lets `timeoutMs` pass, then says whether everything was handled. */
async function drainWithin(dispatcher: ReturnType<typeof setup>, timeoutMs: number): Promise<boolean> {
  const drained = dispatcher.drain(timeoutMs);
  await vi.advanceTimersByTimeAsync(timeoutMs);
  return drained;
}

// Retry delays and give-up budgets are time windows: the tests run them on vitest's fake
// clock (timers and Date), so they take no wall time and cannot race a busy machine.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('delivery dispatcher', () => {
  it('a failing target does not hold up the others; it gives up after the budget and says why', async () => {
    const recorded = fresh();
    const dispatcher = setup([sender('down', unavailable, recorded), sender('up', () => undefined, recorded)], recorded);
    const started = Date.now();
    dispatcher.enqueue([1, 2, 3].flatMap((seq) => [delivery('down', seq), delivery('up', seq)]));
    await vi.advanceTimersByTimeAsync(150);
    expect(recorded.delivered.map((d) => [d.target, d.seq])).toEqual([['up', 1], ['up', 2], ['up', 3]]);
    expect(recorded.gaveUp).toEqual([]);
    expect(await drainWithin(dispatcher, 5_000)).toBe(true);
    expect(recorded.gaveUp.map((g) => g.seq)).toEqual([1, 2, 3]);
    const first = recorded.gaveUp[0]!.error;
    expect(first.code).toBe('NOTIFIER_DELIVERY_GAVE_UP');
    expect(first.context).toMatchObject({ target: 'down', lastCode: 'NOTIFIER_TARGET_UNAVAILABLE' });
    expect(first.message).toMatch(/^target down: gave up after \d+ attempt\(s\) in \d+ ms: target down: HTTP 500$/);
    expect(recorded.attempts.filter((a) => a.target === 'down' && a.seq === 1).length).toBeGreaterThan(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await dispatcher.stop();
  });

  it('waits as long as Retry-After says', async () => {
    const recorded = fresh();
    const limited = (attempt: number) => {
      if (attempt === 1) throw NOTIFIER_ERRORS.create('NOTIFIER_TARGET_RATE_LIMITED', 'HTTP 429', { context: { retryAfterMs: 250 } });
    };
    const dispatcher = setup([sender('slack', limited, recorded)], recorded, { minDelayMs: 1, maxDelayMs: 5, giveUpAfterMs: 5_000 });
    dispatcher.enqueue([delivery('slack', 1)]);
    expect(await drainWithin(dispatcher, 5_000)).toBe(true);
    const [a, b] = recorded.attempts;
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(245);
    expect(recorded.delivered).toHaveLength(1);
    await dispatcher.stop();
  });

  it('does not retry a rejection, keeps per-target order and ignores duplicates', async () => {
    const recorded = fresh();
    const rejecting = (_: number, seq: number) => {
      if (seq === 2) throw NOTIFIER_ERRORS.create('NOTIFIER_TARGET_REJECTED', 'HTTP 400');
    };
    const dispatcher = setup([sender('t', rejecting, recorded)], recorded);
    dispatcher.enqueue([delivery('t', 1), delivery('t', 2), delivery('t', 3)]);
    dispatcher.enqueue([delivery('t', 3)]);
    expect(await drainWithin(dispatcher, 5_000)).toBe(true);
    expect(recorded.attempts.map((a) => a.seq)).toEqual([1, 2, 3]);
    expect(recorded.delivered.map((d) => d.seq)).toEqual([1, 3]);
    expect(recorded.gaveUp.map((g) => [g.seq, g.error.context['lastCode']])).toEqual([[2, 'NOTIFIER_TARGET_REJECTED']]);
    await dispatcher.stop();
  });

  it('stop abandons retries without reporting them as failures', async () => {
    const recorded = fresh();
    const dispatcher = setup([sender('down', unavailable, recorded)], recorded, { minDelayMs: 50, maxDelayMs: 50, giveUpAfterMs: 60_000 });
    dispatcher.enqueue([delivery('down', 1)]);
    expect(await drainWithin(dispatcher, 120)).toBe(false);
    await dispatcher.stop();
    expect(recorded.gaveUp).toEqual([]);
    expect(recorded.delivered).toEqual([]);
  });
});
