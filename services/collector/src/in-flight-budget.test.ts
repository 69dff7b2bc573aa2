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
    a!.release();
    a!.release();
    expect([budget.requests, budget.bytes]).toEqual([2, 40]);
    b!.release();
    c!.release();
    expect([budget.requests, budget.bytes]).toEqual([0, 0]);
  });

  it('lets a single body larger than the byte budget in when nothing else is in flight', () => {
    const budget = createInFlightBudget({ maxRequests: 3, maxBytes: 100 });
    const big = budget.tryAcquire(500);
    expect(big).toBeDefined();
    expect(budget.tryAcquire(1)).toBeUndefined();
    big!.release();
    expect(budget.tryAcquire(1)).toBeDefined();
  });

  it('grows a request with the bytes it decodes, so a chunked body (declared 0) holds its share', () => {
    const budget = createInFlightBudget({ maxRequests: 3, maxBytes: 100 });
    const chunked = budget.tryAcquire(0)!;
    expect(chunked.grow(70)).toBe(true);
    expect(budget.bytes).toBe(70);
    expect(budget.tryAcquire(40)).toBeUndefined();
    const small = budget.tryAcquire(20)!;
    // Growing past the budget while another request is in flight is refused and changes nothing.
    expect(chunked.grow(90)).toBe(false);
    expect(budget.bytes).toBe(90);
    small.release();
    // Alone, a request may grow past the budget (the body-size limits bound it).
    expect(chunked.grow(500)).toBe(true);
    expect(chunked.grow(10)).toBe(true);
    expect(budget.bytes).toBe(500);
    chunked.release();
    expect([budget.requests, budget.bytes]).toEqual([0, 0]);
  });
});
