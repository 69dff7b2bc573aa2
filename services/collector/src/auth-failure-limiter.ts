/**
 * Counts failed authentications per client address in fixed windows, so a client
 * guessing tokens is slowed to a few tries a minute. The table is bounded: an address
 * flood evicts the oldest windows rather than growing memory.
 */
export interface AuthFailureLimiter {
  /** Milliseconds until the address may try again, or 0 when it may try now. */
  blockedForMs(address: string, nowMs: number): number;
  recordFailure(address: string, nowMs: number): void;
  /** Addresses tracked (for tests and metrics). */
  readonly size: number;
}

export interface AuthFailureLimits {
  maxFailures: number;
  windowMs: number;
  /** Addresses tracked at once; the oldest windows go first. */
  maxAddresses?: number;
}

interface Window {
  startMs: number;
  failures: number;
}

export function createAuthFailureLimiter(limits: AuthFailureLimits): AuthFailureLimiter {
  const maxAddresses = limits.maxAddresses ?? 10_000;
  const windows = new Map<string, Window>();

  function current(address: string, nowMs: number): Window | undefined {
    const window = windows.get(address);
    if (window === undefined) return undefined;
    if (nowMs - window.startMs >= limits.windowMs) {
      windows.delete(address);
      return undefined;
    }
    return window;
  }

  return {
    blockedForMs(address, nowMs) {
      const window = current(address, nowMs);
      if (window === undefined || window.failures < limits.maxFailures) return 0;
      return window.startMs + limits.windowMs - nowMs;
    },
    recordFailure(address, nowMs) {
      const window = current(address, nowMs);
      if (window !== undefined) {
        window.failures += 1;
        return;
      }
      if (windows.size >= maxAddresses) {
        // Map order is insertion order: the first entry is the oldest window.
        const oldest = windows.keys().next();
        if (oldest.done !== true) windows.delete(oldest.value);
      }
      windows.set(address, { startMs: nowMs, failures: 1 });
    },
    get size() {
      return windows.size;
    },
  };
}
