import { describe, expect, it } from 'vitest';
import { SHARED_ERRORS, isCalwatchError } from '@calwatch/model';
import { rideOutOutage } from './outage';

const small = { minDelayMs: 1, maxDelayMs: 5, action: 'produce' };

describe('rideOutOutage', () => {
  it('rides out retriable failures shorter than the budget', async () => {
    let calls = 0;
    const retries: number[] = [];
    const result = await rideOutOutage(
      async () => {
        calls++;
        if (calls < 4) throw SHARED_ERRORS.create('SHARED_KAFKA_UNAVAILABLE', 'broker down');
        return 'sent';
      },
      { ...small, budgetMs: 60_000, onRetry: (_error, attempt) => retries.push(attempt) },
    );
    expect(result).toBe('sent');
    expect(retries).toEqual([1, 2, 3]);
  });

  it('fails with a coded, non-retriable error once an outage outlasts the budget', async () => {
    const started = Date.now();
    const error = await rideOutOutage(
      async () => {
        throw SHARED_ERRORS.create('SHARED_KAFKA_UNAVAILABLE', 'Broker not connected');
      },
      { ...small, budgetMs: 50 },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isCalwatchError(error, 'SHARED_KAFKA_OUTAGE_EXCEEDED')).toBe(true);
    expect(error).toMatchObject({ retriable: false, context: { action: 'produce', outageBudgetMs: 50 } });
    expect((error as Error).message).toContain('Broker not connected');
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
  });

  it('does not retry a failure that waiting cannot fix', async () => {
    let calls = 0;
    await expect(
      rideOutOutage(
        async () => {
          calls++;
          throw SHARED_ERRORS.create('SHARED_KAFKA_RECORD_TOO_LARGE', 'too large');
        },
        { ...small, budgetMs: 60_000 },
      ),
    ).rejects.toMatchObject({ code: 'SHARED_KAFKA_RECORD_TOO_LARGE' });
    expect(calls).toBe(1);
  });
});
