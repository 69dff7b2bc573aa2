import { describe, expect, it } from 'vitest';
import { EventClock } from './event-clock';

describe('EventClock', () => {
  it('has no time before the first input', () => {
    expect(new EventClock(1000).now(5000)).toBeNull();
  });

  it('follows event time, never backwards and never ahead of the wall clock', () => {
    const clock = new EventClock(1000);
    expect(clock.observe(100, 10_000)).toBe(100);
    expect(clock.observe(50, 10_001)).toBe(100);
    expect(clock.observe(20_000, 10_002)).toBe(10_002);
  });

  it('moves with the wall clock once inputs have been quiet for the idle time', () => {
    const clock = new EventClock(1000);
    clock.observe(100, 10_000);
    expect(clock.now(10_500)).toBe(100);
    expect(clock.now(11_000)).toBe(100);
    expect(clock.now(13_000)).toBe(2_100);
    // An older input after the idle advance does not pull it back.
    expect(clock.observe(200, 13_000)).toBe(2_100);
  });

  it('restores the persisted time and counts idleness from the restart', () => {
    const before = new EventClock(1000);
    before.observe(100, 10_000);
    const state = before.snapshot(15_000);
    expect(state.baseMs).toBe(4_100);
    const after = new EventClock(1000);
    after.restore(state, 100_000);
    expect(after.now(100_500)).toBe(4_100);
    expect(after.now(102_000)).toBe(5_100);
  });

  it('holds the idle advance while told to, and counts idleness from the release', () => {
    const clock = new EventClock(1000);
    clock.observe(100, 10_000);
    clock.setIdleAdvance(false, 10_000);
    expect(clock.now(60_000)).toBe(100);
    clock.setIdleAdvance(true, 60_000);
    expect(clock.now(60_900)).toBe(100);
    expect(clock.now(62_000)).toBe(1_100);
  });
});
