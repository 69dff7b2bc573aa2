import { describe, expect, it } from 'vitest';
import { SHARED_ERRORS, isCalwatchError } from '@calwatch/model';
import { backoffDelayMs, retry } from './retry';

const fast = { minDelayMs: 1, maxDelayMs: 4, random: () => 1 };

describe('retry', () => {
  it('retries retriable failures until success', async () => {
    let calls = 0;
    const result = await retry(async () => {
      calls++;
      if (calls < 3) throw SHARED_ERRORS.create('SHARED_KAFKA_UNAVAILABLE', 'down');
      return 'ok';
    }, { retries: 5, ...fast });
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('never retries programming errors', async () => {
    let calls = 0;
    await expect(retry(async () => {
      calls++;
      throw new TypeError('bug');
    }, { retries: 5, ...fast })).rejects.toBeInstanceOf(TypeError);
    expect(calls).toBe(1);
  });

  it('does not retry non-retriable coded errors', async () => {
    let calls = 0;
    await expect(retry(async () => {
      calls++;
      throw SHARED_ERRORS.create('SHARED_KAFKA_REQUEST_FAILED', 'denied');
    }, { retries: 5, ...fast })).rejects.toMatchObject({ code: 'SHARED_KAFKA_REQUEST_FAILED' });
    expect(calls).toBe(1);
  });

  it('gives up with SHARED_RETRY_EXHAUSTED carrying the last error', async () => {
    const error = await retry(async () => {
      throw SHARED_ERRORS.create('SHARED_ELASTICSEARCH_UNAVAILABLE', 'still down');
    }, { retries: 2, ...fast }).catch((e: unknown) => e);
    expect(isCalwatchError(error, 'SHARED_RETRY_EXHAUSTED')).toBe(true);
    expect(((error as Error).cause as Error).message).toBe('still down');
  });

  it('honours a server-given delay', async () => {
    const delays: number[] = [];
    let calls = 0;
    await retry(async () => {
      if (++calls < 2) throw new Error('429');
    }, { retries: 3, ...fast, retryAfterMs: () => 7, onRetry: (_e, _a, d) => delays.push(d) });
    expect(delays).toEqual([7]);
  });

  it('backs off exponentially within bounds', () => {
    const options = { retries: 10, minDelayMs: 100, maxDelayMs: 1000, random: () => 1 };
    expect([0, 1, 2, 3, 4].map((a) => backoffDelayMs(a, options))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelayMs(3, { ...options, random: () => 0 })).toBe(100);
  });
});
