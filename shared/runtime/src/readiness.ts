/**
 * Why a process is not ready, by reason: an outage being ridden out, a stopped consumer,
 * a failed task. Parts that notice a problem set their reason and clear it once they
 * make progress again; /readyz answers from `isReady()`.
 */
export interface Readiness {
  /** Sets (with a detail) or clears (undefined) one reason for not being ready. */
  set(reason: string, detail: string | undefined): void;
  isReady(): boolean;
  /** Reasons with their detail and since when (ms since the epoch), for logs and /readyz. */
  reasons(): Record<string, { detail: string; since: number }>;
}

export function createReadiness(now: () => number = Date.now): Readiness {
  const current = new Map<string, { detail: string; since: number }>();
  return {
    set(reason, detail) {
      if (detail === undefined) current.delete(reason);
      else current.set(reason, { detail, since: current.get(reason)?.since ?? now() });
    },
    isReady: () => current.size === 0,
    reasons: () => Object.fromEntries(current),
  };
}
