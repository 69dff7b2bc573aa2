import { describe, expect, it, vi } from 'vitest';
import { createPacer, pause } from './pacing';

describe('createPacer', () => {
  it('sends at full speed without a speed', () => {
    const pacer = createPacer(undefined);
    expect(pacer.delayMs(0, 0)).toBe(0);
    expect(pacer.delayMs(86_400_000, 1)).toBe(0);
  });

  it('maps event time to wall time by the factor, anchored at the first timed entry', () => {
    const pacer = createPacer(3_600); // one hour of event time per second
    expect(pacer.delayMs(Number.NEGATIVE_INFINITY, 1_000)).toBe(0);
    expect(pacer.delayMs(10_000_000, 1_000)).toBe(0);
    expect(pacer.delayMs(10_000_000 + 3_600_000, 1_000)).toBe(1_000);
    expect(pacer.delayMs(10_000_000 + 7_200_000, 1_500)).toBe(1_500);
    // Behind schedule: no wait, no re-anchoring.
    expect(pacer.delayMs(10_000_000 + 7_200_000, 5_000)).toBe(0);
    expect(pacer.delayMs(10_000_000 + 36_000_000, 5_000)).toBe(6_000);
  });
});

describe('pause', () => {
  it('ends early when the signal aborts', async () => {
    // On the fake clock: the pause is still on after 20 ms and over the moment the signal aborts.
    vi.useFakeTimers();
    try {
      const controller = new AbortController();
      let ended = false;
      const paused = pause(5_000, controller.signal).then(() => {
        ended = true;
      });
      await vi.advanceTimersByTimeAsync(20);
      expect(ended).toBe(false);
      controller.abort();
      await paused;
      expect(ended).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
