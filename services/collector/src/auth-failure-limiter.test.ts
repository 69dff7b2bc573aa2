import { describe, expect, it } from 'vitest';
import { createAuthFailureLimiter } from './auth-failure-limiter';

describe('auth failure limiter', () => {
  it('blocks an address after the allowed failures until its window ends', () => {
    const limiter = createAuthFailureLimiter({ maxFailures: 2, windowMs: 1_000 });
    expect(limiter.blockedForMs('a', 0)).toBe(0);
    limiter.recordFailure('a', 0);
    limiter.recordFailure('a', 100);
    expect(limiter.blockedForMs('a', 400)).toBe(600);
    expect(limiter.blockedForMs('b', 400)).toBe(0);
    expect(limiter.blockedForMs('a', 1_000)).toBe(0);
    limiter.recordFailure('a', 1_000);
    expect(limiter.blockedForMs('a', 1_001)).toBe(0);
  });

  it('keeps a bounded table: a flood of addresses evicts the oldest windows', () => {
    const limiter = createAuthFailureLimiter({ maxFailures: 1, windowMs: 60_000, maxAddresses: 3 });
    for (const address of ['a', 'b', 'c', 'd']) limiter.recordFailure(address, 0);
    expect(limiter.size).toBe(3);
    expect(limiter.blockedForMs('a', 1)).toBe(0);
    expect(limiter.blockedForMs('d', 1)).toBeGreaterThan(0);
  });
});
