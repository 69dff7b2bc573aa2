/**
 * Replays at a speed factor: `speed` ms of event time per ms of wall time (3600 = one hour
 * of event time per second). The first timed entry anchors the two clocks; an entry is due
 * when the wall clock has moved on as far as its event time, scaled. A sender that falls
 * behind catches up at full speed rather than re-anchoring, so the whole replay keeps its
 * length.
 */
export interface Pacer {
  /** Milliseconds to wait before sending an entry of this event time (0: now). */
  delayMs(eventTimeMs: number, nowMs: number): number;
}

export function createPacer(speed: number | undefined): Pacer {
  if (speed === undefined || !Number.isFinite(speed)) return { delayMs: () => 0 };
  let origin: { eventMs: number; wallMs: number } | undefined;
  return {
    delayMs(eventTimeMs, nowMs) {
      if (!Number.isFinite(eventTimeMs)) return 0;
      if (origin === undefined) {
        origin = { eventMs: eventTimeMs, wallMs: nowMs };
        return 0;
      }
      const due = origin.wallMs + (eventTimeMs - origin.eventMs) / speed;
      return Math.max(0, Math.ceil(due - nowMs));
    },
  };
}

/** Waits `ms`, or less when the signal aborts (never rejects). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted === true) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
