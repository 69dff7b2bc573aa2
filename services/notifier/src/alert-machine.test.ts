import { describe, expect, it } from 'vitest';
import { advanceAlert, applyCondition, calsBand, isForgettable, type AlertRecord, type Condition } from './alert-machine';
import type { AlertDetails } from './notification';
import { MINUTE, T0, timing } from './test-fixtures';

function details(overrides: Partial<AlertDetails> = {}): AlertDetails {
  return {
    title: 'spike on LS01',
    severity: 'high',
    summary: 's',
    licenseServer: 'LS01',
    product: 'Windows Server 2019',
    since: null,
    cals: 10,
    metrics: {},
    topOffenders: [{ name: 'PC-1', cals: 4 }],
    remediation: 'r',
    findingId: null,
    ...overrides,
  };
}

function condition(active: boolean, d: Partial<AlertDetails> = {}): Condition {
  return { dedupKey: 'calwatch/leak-rate-spike/LS01/x', rule: 'leak-rate-spike', active, details: details(d) };
}

/** Runs conditions through the machine at the given times, returning decision kinds. */
function run(steps: Array<[number, Condition | 'tick']>, start?: AlertRecord): { kinds: string[]; record: AlertRecord | undefined } {
  let record = start;
  const kinds: string[] = [];
  for (const [at, step] of steps) {
    const t = step === 'tick' ? (record === undefined ? { record, decision: null } : advanceAlert(record, at, timing)) : applyCondition(record, step, at, timing);
    record = t.record;
    if (t.decision !== null) kinds.push(t.decision.reason === undefined ? t.decision.kind : `${t.decision.kind}:${t.decision.reason}`);
  }
  return { kinds, record };
}

describe('alert machine', () => {
  it('an inactive condition with no alert decides nothing and leaves a forgettable record', () => {
    const { kinds, record } = run([[T0, condition(false)]]);
    expect(kinds).toEqual([]);
    expect(isForgettable(record!, T0)).toBe(true);
  });

  it('pages once for a condition that stays active with the same details', () => {
    const { kinds, record } = run([
      [T0, condition(true)],
      [T0 + MINUTE, condition(true)],
      [T0 + 45 * MINUTE, condition(true)],
    ]);
    expect(kinds).toEqual(['trigger']);
    expect(record?.status).toBe('open');
    expect(record?.since).toBe(T0);
  });

  it('throttles material changes to one update per interval and sends the latest when it opens', () => {
    const { kinds, record } = run([
      [T0, condition(true, { cals: 10 })],
      [T0 + 5 * MINUTE, condition(true, { cals: 100 })],
      [T0 + 10 * MINUTE, condition(true, { cals: 1000 })],
      [T0 + 29 * MINUTE, 'tick'],
      [T0 + 30 * MINUTE, 'tick'],
      [T0 + 31 * MINUTE, 'tick'],
      // Getting better is not news; a new device is.
      [T0 + 40 * MINUTE, condition(true, { cals: 5 })],
      [T0 + 41 * MINUTE, condition(true, { cals: 5, topOffenders: [{ name: 'PC-1', cals: 4 }, { name: 'PC-2', cals: 1 }] })],
    ]);
    expect(kinds).toEqual(['trigger', 'suppressed:throttled', 'suppressed:throttled', 'update', 'suppressed:throttled']);
    expect(record?.notifiedDetails?.cals).toBe(1000);
    expect(record?.lastNotifiedAt).toBe(T0 + 30 * MINUTE);
  });

  it('sends a severity increase at once, throttle or not', () => {
    const { kinds } = run([
      [T0, condition(true, { severity: 'high' })],
      [T0 + MINUTE, condition(true, { severity: 'critical' })],
    ]);
    expect(kinds).toEqual(['trigger', 'update']);
  });

  it('resolves when the condition clears, then keeps quiet for the quiet period', () => {
    const { kinds, record } = run([
      [T0, condition(true)],
      [T0 + 20 * MINUTE, condition(false)],
      [T0 + 30 * MINUTE, condition(true)],
      [T0 + 50 * MINUTE, condition(false)],
      [T0 + 90 * MINUTE, 'tick'],
    ]);
    expect(kinds).toEqual(['trigger', 'resolve', 'suppressed:quiet-period']);
    expect(record?.status).toBe('resolved');
    expect(record?.quietUntil).toBe(T0 + 80 * MINUTE);
    expect(isForgettable(record!, T0 + 79 * MINUTE)).toBe(false);
    expect(isForgettable(record!, T0 + 80 * MINUTE)).toBe(true);
  });

  it('pages again once the quiet period ends if the condition is still active', () => {
    const { kinds, record } = run([
      [T0, condition(true)],
      [T0 + 20 * MINUTE, condition(false)],
      [T0 + 30 * MINUTE, condition(true)],
      [T0 + 79 * MINUTE, 'tick'],
      [T0 + 80 * MINUTE, 'tick'],
    ]);
    expect(kinds).toEqual(['trigger', 'resolve', 'suppressed:quiet-period', 'trigger']);
    expect(record?.status).toBe('open');
    expect(record?.openedAt).toBe(T0 + 80 * MINUTE);
  });

  it('tells CAL counts in bands (1, 10, 100, 1000): a count moving within its band is not news', () => {
    expect([0, 1, 9, 10, 99, 100, 999, 1000, 50_000].map(calsBand)).toEqual([0, 1, 1, 2, 2, 3, 3, 4, 4]);
    const { kinds } = run([
      [T0, condition(true, { cals: 11 })],
      [T0 + 60 * MINUTE, condition(true, { cals: 97, summary: 'reworded' })],
      [T0 + 120 * MINUTE, condition(true, { cals: 101 })],
    ]);
    expect(kinds).toEqual(['trigger', 'update']);
  });

  it('updates on a new device (the rule\'s device count), not on the same devices', () => {
    const { kinds } = run([
      [T0, condition(true, { metrics: { devices: 2 } })],
      [T0 + 60 * MINUTE, condition(true, { metrics: { devices: 2, lastSeen: 'later' } })],
      [T0 + 120 * MINUTE, condition(true, { metrics: { devices: 3 } })],
    ]);
    expect(kinds).toEqual(['trigger', 'update']);
  });

  describe('reopen cool-down', () => {
    const cooldown = { ...timing, reopenCooldownMs: 120 * MINUTE };
    const runWith = (steps: Array<[number, Condition | 'tick']>) => {
      let record: AlertRecord | undefined;
      const kinds: string[] = [];
      for (const [at, step] of steps) {
        const t = step === 'tick' ? advanceAlert(record!, at, cooldown) : applyCondition(record, step, at, cooldown);
        record = t.record;
        if (t.decision !== null) kinds.push(t.decision.kind);
      }
      return { kinds, record };
    };

    it('a condition that recurs within the cool-down continues the same incident: no resolve, no new trigger', () => {
      const { kinds, record } = runWith([
        [T0, condition(true)],
        [T0 + 20 * MINUTE, condition(false)],
        [T0 + 60 * MINUTE, 'tick'],
        [T0 + 90 * MINUTE, condition(true)],
        [T0 + 300 * MINUTE, 'tick'],
      ]);
      expect(kinds).toEqual(['trigger']);
      expect(record?.status).toBe('open');
      expect(record?.openedAt).toBe(T0);
      expect(record?.resolvePendingSince).toBeNull();
    });

    it('resolves once the condition stayed clear for the cool-down', () => {
      const { kinds, record } = runWith([
        [T0, condition(true)],
        [T0 + 20 * MINUTE, condition(false)],
        [T0 + 139 * MINUTE, 'tick'],
        [T0 + 140 * MINUTE, 'tick'],
      ]);
      expect(kinds).toEqual(['trigger', 'resolve']);
      expect(record?.resolvedAt).toBe(T0 + 140 * MINUTE);
    });

    it('resolves on a later clear condition too, once the cool-down has passed', () => {
      const { kinds } = runWith([
        [T0, condition(true)],
        [T0 + 20 * MINUTE, condition(false)],
        [T0 + 200 * MINUTE, condition(false)],
      ]);
      expect(kinds).toEqual(['trigger', 'resolve']);
    });
  });

  it('takes since from the rule when it knows when the condition began', () => {
    const since = new Date(T0 - 3 * 60 * MINUTE).toISOString();
    const { record } = run([[T0, condition(true, { since })]]);
    expect(record?.since).toBe(T0 - 3 * 60 * MINUTE);
  });
});
