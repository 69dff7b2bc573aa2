import { describe, expect, it } from 'vitest';
import { createInFlightBudget } from './in-flight-budget';

describe('in-flight budget', () => {
  it('bounds requests and bytes, and frees them on release (once)', () => {
    const budget = createInFlightBudget({ maxRequests: 3, maxBytes: 100 });
    const a = budget.tryAcquire(60);
    expect(a).toBeDefined();
    expect(budget.tryAcquire(50)).toBeUndefined();
    const b = budget.tryAcquire(40);
    const c = budget.tryAcquire(0);
    expect(budget.tryAcquire(0)).toBeUndefined();
    expect([budget.requests, budget.bytes]).toEqual([3, 100]);
    a!();
    a!();
    expect([budget.requests, budget.bytes]).toEqual([2, 40]);
    b!();
    c!();
    expect([budget.requests, budget.bytes]).toEqual([0, 0]);
  });

  it('lets a single body larger than the byte budget in when nothing else is in flight', () => {
    const budget = createInFlightBudget({ maxRequests: 3, maxBytes: 100 });
    const big = budget.tryAcquire(500);
    expect(big).toBeDefined();
    expect(budget.tryAcquire(1)).toBeUndefined();
    big!();
    expect(budget.tryAcquire(1)).toBeDefined();
  });
});
