/**
 * The notifier's notion of "now": event time. It follows the newest input (never ahead of
 * the wall clock, so a skewed source cannot fast-forward it) and, once inputs have been
 * quiet for `idleAfterMs`, moves on with the wall clock so that conditions can clear
 * while nothing arrives. It never goes backwards. The idle advance can be held (while
 * the consumer has no partitions, e.g. joining its group after a restart), so records
 * still waiting in Kafka do not arrive "late".
 */
export interface EventClockState {
  /** Event time at the last anchor; null until the first input. */
  baseMs: number | null;
}

export class EventClock {
  private baseMs: number | null;
  private anchorWallMs: number;
  private idleAdvance = true;

  constructor(
    private readonly idleAfterMs: number,
    state: EventClockState = { baseMs: null },
    wallNowMs = 0,
  ) {
    this.baseMs = state.baseMs;
    this.anchorWallMs = wallNowMs;
  }

  /** Current event time, or null before any input. */
  now(wallNowMs: number): number | null {
    if (this.baseMs === null) return null;
    if (!this.idleAdvance) return this.baseMs;
    return this.baseMs + Math.max(0, wallNowMs - this.anchorWallMs - this.idleAfterMs);
  }

  /** Notes an input's event time; returns the new current time. */
  observe(eventTimeMs: number, wallNowMs: number): number {
    const current = this.now(wallNowMs);
    const candidate = Math.min(eventTimeMs, wallNowMs);
    this.baseMs = current === null ? candidate : Math.max(current, candidate);
    this.anchorWallMs = wallNowMs;
    return this.baseMs;
  }

  /** Holds or releases the idle advance; the idle time counts from here. */
  setIdleAdvance(enabled: boolean, wallNowMs: number): void {
    this.baseMs = this.now(wallNowMs);
    this.anchorWallMs = wallNowMs;
    this.idleAdvance = enabled;
  }

  /** What to persist: the current time becomes the base after a restart. */
  snapshot(wallNowMs: number): EventClockState {
    return { baseMs: this.now(wallNowMs) };
  }

  /** Restores a persisted base, anchored at the restart (downtime does not count as idle). */
  restore(state: EventClockState, wallNowMs: number): void {
    this.baseMs = state.baseMs;
    this.anchorWallMs = wallNowMs;
  }
}
