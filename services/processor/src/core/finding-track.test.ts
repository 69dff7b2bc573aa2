import { describe, expect, it } from 'vitest';
import type { Severity } from '@calwatch/model';
import { type DerivedFinding, type FindingTrack, advanceTrack, countChanges, heldSeverity, holdEndsAt } from './finding-track';
import type { Candidate } from './messages';
import { createSeededRandom } from '../testing/timeline-kit';
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

describe('reclaimable CALs that only grow', () => {
  const candidate = (licenseId: number, expiresAt: number | null = null) => ({ licenseId, keyPackId: 1, expiresAt });
  const withCandidates = (candidates: DerivedFinding['candidates']): DerivedFinding => ({ ...derived('critical'), candidates });

  /** Feeds one derived list per hour; returns the candidate counts of the updates sent. */
  function sent(lists: DerivedFinding['candidates'][], candidateGrowth: number, flushAtEnd = false): number[] {
    let track: FindingTrack | undefined;
    const counts: number[] = [];
    lists.forEach((candidates, i) => {
      const step = advanceTrack({
        track,
        id: 'f1',
        kind: 'cloned-image',
        licenseServer: 'LS01',
        derived: withCandidates(candidates),
        evidence: [],
        at: T0 + i * HOUR_MS,
        timelineMax: 50,
        refreshMs: 365 * DAY_MS,
        severityHoldMs: HOLD,
        candidateGrowth,
        flush: flushAtEnd && i === lists.length - 1,
        resolution: () => ({ summary: 'gone', remediation: '', note: 'resolved' }),
      });
      track = step.track;
      if (step.draft !== null) counts.push(step.draft.candidates.length);
    });
    return counts;
  }

  const growing = Array.from({ length: 2000 }, (_, n) => Array.from({ length: n + 1 }, (_, i) => candidate(i + 1)));

  it('an episode of 2,000 reissues sends a logarithmic number of updates, each 10 % larger than the last', () => {
    const counts = sent(growing, 0.1);
    expect(counts.length).toBeLessThan(90);
    expect(counts[0]).toBe(1);
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBe(counts[i - 1]! + Math.max(1, Math.ceil(counts[i - 1]! * 0.1)));
    // Every change goes out with a growth of 0.
    expect(sent(growing, 0)).toHaveLength(2000);
  });

  it('a flush sends the exact list held back', () => {
    const counts = sent(growing, 0.1, true);
    expect(counts.at(-1)).toBe(2000);
  });

  it('CALs that joined, left or changed count alike; the update goes out when they reach the fraction', () => {
    const base = Array.from({ length: 100 }, (_, i) => candidate(i + 1));
    // Nine revoked (left) one by one: held; a renewal (changed) is the tenth: sent.
    const steps = [base];
    for (let k = 1; k <= 9; k++) steps.push(base.slice(k));
    const renewed = base.slice(9).map((c) => (c.licenseId === 50 ? candidate(50, T0 + 90 * DAY_MS) : c));
    steps.push(renewed);
    expect(sent(steps, 0.1)).toEqual([100, 91]);
    // A CAL that joined in the middle of the chain (a device's previous CAL) is one change.
    const middle = [...base.slice(0, 10), candidate(500), ...base.slice(10)];
    expect(sent([base, middle], 0.1)).toEqual([100]);
    expect(sent([base, middle], 0.1, true)).toEqual([100, 101]);
  });
});

describe('HWIDs and names that join or leave', () => {
  const hwid = (n: number) => `h${String(n).padStart(4, '0')}`;

  /** Feeds one list of HWIDs per hour (candidates as many); returns the HWID counts of the updates sent. */
  function sent(lists: string[][], flushAtEnd = false): number[] {
    let track: FindingTrack | undefined;
    const counts: number[] = [];
    lists.forEach((hwids, i) => {
      const step = advanceTrack({
        track,
        id: 'f1',
        kind: 'hwid-churn',
        licenseServer: 'LS01',
        derived: { ...derived('high'), hwids, candidates: hwids.map((_, k) => ({ licenseId: k + 1, keyPackId: 1, expiresAt: null })) },
        evidence: [],
        at: T0 + i * HOUR_MS,
        timelineMax: 50,
        refreshMs: 365 * DAY_MS,
        severityHoldMs: HOLD,
        candidateGrowth: 0.1,
        flush: flushAtEnd && i === lists.length - 1,
        resolution: () => ({ summary: 'gone', remediation: '', note: 'resolved' }),
      });
      track = step.track;
      if (step.draft !== null) counts.push(step.draft.hwids.length);
    });
    return counts;
  }

  it('a churning name rotating through a full list of 64 HWIDs sends one update per few boots, not one per boot', () => {
    // Each boot: a new HWID joins, the oldest leaves (the name's cap), and the CAL list moves with them.
    const lists = Array.from({ length: 200 }, (_, boot) => Array.from({ length: 64 }, (_, k) => hwid(boot + k)));
    const counts = sent(lists);
    expect(counts.length).toBeGreaterThan(1);
    expect(counts.length).toBeLessThan(lists.length / 2);
    expect(sent(lists, true).length).toBe(counts.length + 1);
  });

  it('a small finding sends any HWID that joins or leaves at once (a third machine under one name)', () => {
    expect(sent([[hwid(1), hwid(2)], [hwid(1), hwid(2), hwid(3)], [hwid(2), hwid(3)]])).toEqual([2, 3, 2]);
  });

  it('the same HWIDs send nothing, in any order', () => {
    expect(sent([[hwid(1), hwid(2)], [hwid(1), hwid(2)]])).toEqual([2]);
    expect(sent([[hwid(2), hwid(1)], [hwid(1), hwid(2)]])).toEqual([2]);
    // Out of order, a change still counts.
    expect(sent([[hwid(2), hwid(1)], [hwid(3), hwid(1)]])).toEqual([2, 2]);
  });
});

describe('counting the CALs that changed between two lists', () => {
  /** The definition: CALs of either list without an unchanged CAL of the same id in the other. */
  function reference(a: readonly Candidate[], b: readonly Candidate[]): number {
    const same = (x: Candidate, y: Candidate) => x.keyPackId === y.keyPackId && x.expiresAt === y.expiresAt;
    const gone = a.filter((x) => !b.some((y) => y.licenseId === x.licenseId && same(x, y))).length;
    const joined = b.filter((y) => !a.some((x) => x.licenseId === y.licenseId && same(x, y))).length;
    return gone + joined;
  }

  it('equals the definition for lists that gain, lose, change and reorder CALs, from one to 600 long', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const next = createSeededRandom(seed);
      const size = 1 + Math.floor(next() * (seed % 4 === 0 ? 600 : 40));
      const a: Candidate[] = Array.from({ length: size }, (_, i) => ({ licenseId: i * 2, keyPackId: 1, expiresAt: 1_000 + i }));
      let b: Candidate[] = [];
      let nextId = size * 2;
      for (const c of a) {
        const roll = next();
        if (roll < 0.05) continue; // expired or revoked
        if (roll < 0.08) b.push({ ...c, expiresAt: (c.expiresAt ?? 0) + 1 }); // renewed
        else b.push(roll < 0.5 ? c : { ...c }); // unchanged: the same object or an equal copy
        if (next() < 0.05) b.push({ licenseId: nextId++, keyPackId: 1, expiresAt: 5_000 }); // a new CAL
      }
      if (seed % 5 === 0 && b.length > 2) {
        // Two CALs swap places (a late event re-sorted the chain).
        const i = Math.floor(next() * b.length);
        const j = Math.floor(next() * b.length);
        b = b.slice();
        [b[i], b[j]] = [b[j]!, b[i]!];
      }
      expect(countChanges(a, b), `seed ${seed}`).toBe(reference(a, b));
      expect(countChanges(b, a), `seed ${seed}, reversed`).toBe(reference(b, a));
    }
  });

  it('counts a CAL that left the front, the middle or the end, and one that joined anywhere', () => {
    const list: Candidate[] = [1, 2, 3, 4, 5].map((id) => ({ licenseId: id, keyPackId: 1, expiresAt: id }));
    const added: Candidate = { licenseId: 9, keyPackId: 1, expiresAt: 9 };
    expect(countChanges(list, list.slice(1))).toBe(1);
    expect(countChanges(list, [...list.slice(0, 2), ...list.slice(3)])).toBe(1);
    expect(countChanges(list, list.slice(0, 4))).toBe(1);
    expect(countChanges(list, [added, ...list])).toBe(1);
    expect(countChanges(list, [...list.slice(0, 2), added, ...list.slice(3)])).toBe(2);
    expect(countChanges(list, [...list].reverse())).toBe(0);
  });
});
