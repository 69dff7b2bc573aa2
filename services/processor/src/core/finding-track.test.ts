import { describe, expect, it } from 'vitest';
import type { Severity } from '@calwatch/model';
import { type DerivedFinding, type FindingTrack, advanceTrack, heldSeverity, holdEndsAt } from './finding-track';
import { DAY_MS } from './time';

const HOUR_MS = 3_600_000;

const T0 = Date.parse('2024-01-01T00:00:00.000Z');
const HOLD = DAY_MS;

function derived(severity: Severity, causeStopped = false): DerivedFinding {
  return {
    severity,
    hwids: ['h1'],
    computers: ['pc1'],
    licenseIds: [1, 2],
    keyPackIds: [1],
    candidates: [{ licenseId: 1, keyPackId: 1, expiresAt: null }],
    firstSeen: T0,
    lastSeen: T0,
    ...(causeStopped ? { causeStopped } : {}),
    describe: () => ({ summary: 's', remediation: 'r' }),
    history: () => [],
  };
}

/** Drives one track through (hour offset, derived severity) steps; returns the published severities. */
function drive(steps: Array<[number, Severity | null]>): Array<[number, string]> {
  let track: FindingTrack | undefined;
  const published: Array<[number, string]> = [];
  for (const [hour, severity] of steps) {
    const at = T0 + hour * HOUR_MS;
    const step = advanceTrack({
      track,
      id: 'f1',
      kind: 'hwid-churn',
      licenseServer: 'LS01',
      derived: severity === null ? null : derived(severity),
      evidence: [],
      at,
      timelineMax: 50,
      refreshMs: 365 * DAY_MS,
      severityHoldMs: HOLD,
      resolution: () => ({ summary: 'gone', remediation: '', note: 'resolved' }),
    });
    track = step.track;
    if (step.draft !== null) published.push([hour, step.draft.state === 'resolved' ? 'resolved' : step.draft.severity]);
  }
  return published;
}

describe('severity hysteresis', () => {
  it('rises at once', () => {
    expect(heldSeverity({ severity: 'low' }, 'high', T0, HOLD)).toEqual({ severity: 'high', lowerSince: undefined });
  });

  it('falls only once the lower severity has held for the hold time', () => {
    const first = heldSeverity({ severity: 'high' }, 'low', T0, HOLD);
    expect(first).toEqual({ severity: 'high', lowerSince: T0 });
    expect(heldSeverity({ severity: 'high', lowerSince: T0 }, 'low', T0 + HOLD - 1, HOLD)).toEqual({ severity: 'high', lowerSince: T0 });
    expect(heldSeverity({ severity: 'high', lowerSince: T0 }, 'medium', T0 + HOLD, HOLD)).toEqual({ severity: 'medium', lowerSince: undefined });
  });

  it('a swing back up within the hold time restarts it', () => {
    expect(heldSeverity({ severity: 'high', lowerSince: T0 }, 'high', T0 + HOUR_MS, HOLD)).toEqual({ severity: 'high', lowerSince: undefined });
  });

  it('a finding flapping high/low/high publishes high once; it falls after the hold, not before', () => {
    const published = drive([
      [0, 'high'],
      [2, 'low'],
      [4, 'high'],
      [6, 'low'],
      [20, 'low'],
      [30, 'low'],
    ]);
    expect(published).toEqual([
      [0, 'high'],
      [30, 'low'],
    ]);
  });

  it('resolution is not held back', () => {
    expect(drive([[0, 'high'], [1, 'low'], [2, null]])).toEqual([
      [0, 'high'],
      [2, 'resolved'],
    ]);
  });

  it('tells the stage when a held severity may fall (its timer)', () => {
    const track = { state: 'open' as const, lowerSince: T0 };
    expect(holdEndsAt(track, HOLD)).toBe(T0 + HOLD);
    expect(holdEndsAt({ state: 'open' as const }, HOLD)).toBeNull();
    expect(holdEndsAt({ state: 'resolved' as const, lowerSince: T0 }, HOLD)).toBeNull();
  });
});
