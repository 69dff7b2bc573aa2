import { describe, expect, it } from 'vitest';
import type { Decision } from './alert-machine';
import { createNotifierCore, type NotifierCore } from './notifier-core';
import type { TargetRoute } from './routing';
import type { RuleSettings } from './rule-settings';
import { MINUTE, T0, enriched, finding, issued, keyPack, poolExhausted, revocationLimit, ruleSettings, timing } from './test-fixtures';

const ALL: TargetRoute = { name: 'all', minSeverity: 'info', rules: null, licenseServers: null };
const CRITICAL_ONLY: TargetRoute = { name: 'crit', minSeverity: 'critical', rules: null, licenseServers: null };
const OTHER_SERVER: TargetRoute = { name: 'ls02', minSeverity: 'info', rules: null, licenseServers: ['LS02'] };
const FINDINGS_ONLY: TargetRoute = { name: 'findings', minSeverity: 'info', rules: ['high-severity-finding'], licenseServers: null };

function core(rules: RuleSettings = ruleSettings(), routes: TargetRoute[] = [ALL]): NotifierCore {
  return createNotifierCore({ rules, timing, routes, links: { finding: 'https://kibana.example/f/{findingId}', server: 'https://kibana.example/s/{licenseServer}' }, idleAdvanceAfterMs: MINUTE });
}

/** One input, one batch: apply, then decide. */
function feed(c: NotifierCore, event: Parameters<NotifierCore['applyEnriched']>[0], wall: number): Decision[] {
  c.applyEnriched(event, wall);
  return c.decide(wall);
}

function feedFinding(c: NotifierCore, f: Parameters<NotifierCore['applyFinding']>[0], wall: number): Decision[] {
  c.applyFinding(f, wall);
  return c.decide(wall);
}

const kinds = (decisions: readonly Decision[]): string[] => decisions.filter((d) => d.kind !== 'suppressed').map((d) => `${d.kind}:${d.rule}`);

interface IssueOptions {
  computer?: (i: number) => string;
  context?: Parameters<typeof enriched>[1];
  /** Spread of the CALs after `start`; default 9 minutes (inside one 10-minute interval). */
  spreadMs?: number;
}

/** Issues `count` CALs spread from `start`, wall clock 1 s behind. */
function issueMany(c: NotifierCore, start: number, count: number, options: IssueOptions = {}): Decision[] {
  const out: Decision[] = [];
  const spread = options.spreadMs ?? 9 * MINUTE;
  for (let i = 0; i < count; i++) {
    const at = start + Math.floor((i * spread) / Math.max(1, count));
    out.push(...feed(c, enriched(issued(at, { computer: options.computer?.(i) ?? `PC-${i}` }), options.context), at + 1000));
  }
  return out;
}

/** A persisted copy of everything the core wrote, as the compacted topic would keep it. */
function persist(c: NotifierCore, wall: number, into = new Map<string, unknown>()): Map<string, unknown> {
  for (const { key, value } of c.takeDirty(wall)) {
    if (value === null) into.delete(key);
    else into.set(key, JSON.parse(JSON.stringify(value)));
  }
  return into;
}

describe('leak-rate spike', () => {
  it('does not page a quiet night: two licenses are under the minimum rate', () => {
    const c = core();
    expect(kinds(issueMany(c, T0, 2))).toEqual([]);
    expect(kinds(c.tick(T0 + 60 * MINUTE))).toEqual([]);
    expect(c.takeDeliveries()).toEqual([]);
  });

  it('pages once when an interval reaches factor x baseline, updates throttled, resolves when it ends', () => {
    const c = core(ruleSettings({ spike: { criticalFactor: 100 } }));
    // Baseline: 2 per interval for 6 intervals -> threshold max(5, 3 x 2) = 6.
    for (let i = 0; i < 6; i++) expect(kinds(issueMany(c, T0 + i * 10 * MINUTE, 2))).toEqual([]);
    const spikeStart = T0 + 60 * MINUTE;
    const first = issueMany(c, spikeStart, 5);
    expect(kinds(first)).toEqual([]);
    const more = issueMany(c, spikeStart + 9 * MINUTE, 3, { computer: (i) => `VDI-${i}`, spreadMs: 30_000 });
    expect(kinds(more)).toEqual(['trigger:leak-rate-spike']);
    const [delivery] = c.takeDeliveries();
    expect(delivery?.target).toBe('all');
    expect(delivery?.notification).toMatchObject({ action: 'trigger', licenseServer: 'LS01', product: 'key pack 3', cals: 6, severity: 'high' });
    expect(delivery?.notification.since).toBe(new Date(spikeStart).toISOString());
    expect(delivery?.notification.link).toBe('https://kibana.example/s/LS01');

    // The spike goes on in the next intervals: every CAL is news, but updates wait 30 min.
    const during = [10, 20, 30].flatMap((m) => issueMany(c, spikeStart + m * MINUTE, 20));
    expect(kinds(during)).toEqual([]);
    expect(during.some((d) => d.kind === 'suppressed' && d.reason === 'throttled')).toBe(true);
    expect(c.takeDeliveries()).toEqual([]);
    const later = issueMany(c, spikeStart + 40 * MINUTE, 20);
    expect(kinds(later)).toEqual(['update:leak-rate-spike']);
    const update = c.takeDeliveries();
    expect(update.map((d) => d.notification.action)).toEqual(['update']);
    expect(update[0]!.notification.cals).toBeGreaterThan(60);
    expect(update[0]!.notification.topOffenders).toHaveLength(3);

    // Nothing more arrives: once event time follows the wall clock past a quiet interval, it resolves.
    expect(kinds(c.tick(spikeStart + 59 * MINUTE))).toEqual([]);
    const quiet = c.tick(spikeStart + 75 * MINUTE);
    expect(kinds(quiet)).toEqual(['resolve:leak-rate-spike']);
    const resolve = c.takeDeliveries();
    expect(resolve.map((d) => [d.target, d.notification.action])).toEqual([['all', 'resolve']]);
    expect(kinds(c.tick(spikeStart + 150 * MINUTE))).toEqual([]);
  });

  it('a spike that began and ended between two looks (catching up) still pages, then resolves', () => {
    const c = core();
    const wall = T0 + 40 * MINUTE;
    for (let i = 0; i < 8; i++) c.applyEnriched(enriched(issued(T0 + i * 1000)), wall);
    c.applyEnriched(enriched(issued(T0 + 35 * MINUTE)), wall);
    const decisions = c.decide(wall);
    expect(decisions.map((d) => [d.kind, new Date(d.at).toISOString()])).toEqual([
      ['trigger', new Date(T0 + 10 * MINUTE).toISOString()],
      ['resolve', new Date(T0 + 20 * MINUTE).toISOString()],
    ]);
    expect(c.takeDeliveries().map((d) => [d.notification.action, d.notification.cals])).toEqual([
      ['trigger', 8],
      ['resolve', 8],
    ]);
  });

  it('a spike does not raise its own baseline', () => {
    const c = core(ruleSettings({ spike: { clearIntervals: 3 } }));
    for (let i = 0; i < 8; i++) issueMany(c, T0 + i * 10 * MINUTE, 10);
    // Eight intervals of 10 with a baseline of 0: still one open alert, never cleared by its own weight.
    expect(c.openAlerts().map((a) => a.rule)).toEqual(['leak-rate-spike']);
  });

  it('old inputs (a replay) shape the baseline but never page', () => {
    const c = core();
    const wall = T0 + 10 * 24 * 60 * MINUTE;
    const decisions: Decision[] = [];
    for (let i = 0; i < 20; i++) decisions.push(...feed(c, enriched(issued(T0 + i * 1000)), wall));
    expect(kinds(decisions)).toEqual([]);
  });

  it('names the dominant leak pattern and links the finding behind most CALs', () => {
    const c = core();
    const decisions = issueMany(c, T0, 6, { computer: (i) => `VDI-${i}`, context: { classification: 'hwid-churn', findingIds: ['f-churn'] } });
    expect(kinds(decisions)).toEqual(['trigger:leak-rate-spike']);
    const [delivery] = c.takeDeliveries();
    expect(delivery?.notification.remediation).toMatch(/MSLicensing/);
    expect(delivery?.notification.findingId).toBe('f-churn');
    expect(delivery?.notification.link).toBe('https://kibana.example/f/f-churn');
  });

  it('counts per license server and product', () => {
    const c = core(ruleSettings({ enabled: ['leak-rate-spike'] }));
    feed(c, enriched(keyPack(T0, { keyPackId: 3, product: 'Windows Server 2019', available: 50, total: 100 })), T0);
    feed(c, enriched(keyPack(T0, { keyPackId: 4, product: 'Windows Server 2022', available: 50, total: 100 })), T0);
    const decisions: Decision[] = [];
    for (let i = 0; i < 4; i++) {
      decisions.push(...feed(c, enriched(issued(T0 + i * 1000, { keyPackId: 3 })), T0 + i * 1000));
      decisions.push(...feed(c, enriched(issued(T0 + i * 1000, { keyPackId: 4 })), T0 + i * 1000));
      decisions.push(...feed(c, enriched(issued(T0 + i * 1000, { server: 'LS02', keyPackId: 3 })), T0 + i * 1000));
    }
    // 12 CALs in the interval, but no single server/product reached 5.
    expect(kinds(decisions)).toEqual([]);
  });
});

describe('routing', () => {
  it('sends to matching targets, escalation reaches the stricter one as a trigger, resolve to all paged', () => {
    const c = core(ruleSettings({ spike: { criticalFactor: 2 } }), [ALL, CRITICAL_ONLY, OTHER_SERVER, FINDINGS_ONLY]);
    issueMany(c, T0, 5, { spreadMs: 5 * MINUTE });
    expect(c.takeDeliveries().map((d) => [d.target, d.notification.action, d.notification.severity])).toEqual([['all', 'trigger', 'high']]);
    issueMany(c, T0 + 6 * MINUTE, 5, { spreadMs: 3 * MINUTE });
    // Peak 10 >= 2 x threshold 5: critical, sent at once despite the throttle.
    expect(c.takeDeliveries().map((d) => [d.target, d.notification.action, d.notification.severity])).toEqual([
      ['all', 'update', 'critical'],
      ['crit', 'trigger', 'critical'],
    ]);
    c.tick(T0 + 60 * MINUTE);
    expect(c.takeDeliveries().map((d) => [d.target, d.notification.action])).toEqual([
      ['all', 'resolve'],
      ['crit', 'resolve'],
    ]);
  });
});

describe('restart', () => {
  it('restored state neither re-pages nor forgets to resolve; undelivered notifications come back', () => {
    const first = core();
    issueMany(first, T0, 6);
    const [trigger] = first.takeDeliveries();
    expect(trigger?.notification.action).toBe('trigger');
    first.noteApplied('calwatch.enriched', 0, '41');
    const stored = persist(first, T0 + 10 * MINUTE);

    const second = core();
    for (const [key, value] of stored) expect(second.restoreRecord(key, value, T0 + 11 * MINUTE)).toEqual({ ok: true });
    expect(second.appliedOffset('calwatch.enriched', 0)).toBe('41');
    expect(second.openAlerts()).toHaveLength(1);
    // Not acknowledged before the restart: delivered again, same sequence number.
    expect(second.pendingDeliveries().map((d) => [d.target, d.notification.action, d.seq])).toEqual([['all', 'trigger', trigger!.seq]]);
    second.markDelivered(trigger!.dedupKey, trigger!.seq, 'all', T0 + 11 * MINUTE);
    expect(second.pendingDeliveries()).toEqual([]);

    // The spike goes on after the restart: no second page.
    expect(kinds(issueMany(second, T0 + 11 * MINUTE - 60_000, 3))).toEqual([]);
    expect(second.takeDeliveries()).toEqual([]);
    // It ends: the resolve still comes.
    expect(kinds(second.tick(T0 + 11 * MINUTE + 60 * MINUTE))).toEqual(['resolve:leak-rate-spike']);
    expect(second.takeDeliveries().map((d) => d.notification.action)).toEqual(['resolve']);
  });

  it('skips undecodable records and reports why', () => {
    const c = core();
    expect(c.restoreRecord('alert/x', { nope: true }, T0).ok).toBe(false);
    expect(c.restoreRecord('whatever', {}, T0).ok).toBe(false);
    expect(c.restoreRecord('offset/t/notanumber', { offset: '1' }, T0).ok).toBe(false);
  });

  it('forgets resolved alerts after the quiet period with a tombstone', () => {
    const c = core();
    issueMany(c, T0, 6);
    c.tick(T0 + 40 * MINUTE);
    for (const d of c.takeDeliveries()) c.markDelivered(d.dedupKey, d.seq, d.target, T0 + 40 * MINUTE);
    const stored = persist(c, T0 + 40 * MINUTE);
    expect([...stored.keys()].some((k) => k.startsWith('alert/'))).toBe(true);
    c.tick(T0 + 200 * MINUTE);
    persist(c, T0 + 200 * MINUTE, stored);
    expect([...stored.keys()].some((k) => k.startsWith('alert/'))).toBe(false);
  });
});

describe('high-severity findings', () => {
  it('pages a new high finding once, updates it on a new revision, resolves it when resolved', () => {
    const c = core();
    expect(kinds(feedFinding(c, finding(), T0))).toEqual(['trigger:high-severity-finding']);
    const [trigger] = c.takeDeliveries();
    expect(trigger?.notification).toMatchObject({ cals: 2, findingId: 'f-cloned-1', link: 'https://kibana.example/f/f-cloned-1', remediation: 'Regenerate the HardwareID on the clones.' });
    expect(trigger?.notification.topOffenders.map((o) => o.name)).toEqual(['VDI-001', 'VDI-002', 'VDI-003']);
    // Redelivered: nothing.
    expect(kinds(feedFinding(c, finding(), T0 + MINUTE))).toEqual([]);
    const later = new Date(T0 + 40 * MINUTE).toISOString();
    // One CAL more is not news; crossing into the next band (10+) is.
    expect(kinds(feedFinding(c, finding({ revision: 2, leakedCals: 3, updatedAt: later }), T0 + 40 * MINUTE))).toEqual([]);
    expect(kinds(feedFinding(c, finding({ revision: 2, leakedCals: 12, updatedAt: later }), T0 + 40 * MINUTE))).toEqual(['update:high-severity-finding']);
    // An older revision arriving late changes nothing.
    expect(kinds(feedFinding(c, finding({ revision: 1, state: 'resolved', updatedAt: later }), T0 + 41 * MINUTE))).toEqual([]);
    expect(kinds(feedFinding(c, finding({ revision: 3, state: 'resolved', updatedAt: later }), T0 + 42 * MINUTE))).toEqual(['resolve:high-severity-finding']);
  });

  it('ignores findings under the minimum severity', () => {
    const c = core();
    expect(kinds(feedFinding(c, finding({ severity: 'medium' }), T0))).toEqual([]);
    expect(c.takeDeliveries()).toEqual([]);
  });

  it('does not page a disabled rule', () => {
    const c = core(ruleSettings({ enabled: ['leak-rate-spike'] }));
    expect(kinds(feedFinding(c, finding(), T0))).toEqual([]);
  });
});

describe('pool exhaustion', () => {
  it('pages the processor\'s pool-exhaustion finding under its own rule, keyed by the finding', () => {
    const c = core();
    const pool = finding({ id: 'pool-exhaustion:ls01-2019', kind: 'pool-exhaustion', leakedCals: 0, computers: [], computerCount: 0, hwids: [], hwidCount: 0 });
    expect(kinds(feedFinding(c, pool, T0))).toEqual(['trigger:pool-exhaustion']);
    const [trigger] = c.takeDeliveries();
    expect(trigger?.dedupKey).toBe('calwatch/pool-exhaustion/pool-exhaustion:ls01-2019');
  });

  it('has no rule of its own: key packs running low and pool events never page by themselves', () => {
    const c = core(ruleSettings({ spike: { minCals: 1000 } }));
    feed(c, enriched(keyPack(T0, { available: 40, total: 200 })), T0);
    expect(kinds(issueMany(c, T0, 10))).toEqual([]);
    expect(kinds(feed(c, enriched(poolExhausted(T0 + 5 * MINUTE)), T0 + 5 * MINUTE))).toEqual([]);
    expect(kinds(c.tick(T0 + 3 * 60 * MINUTE))).toEqual([]);
  });
});

describe('alerts of retired rules', () => {
  it('resolves, after a restore, an open alert of the notifier\'s former pool rule', () => {
    const c = core();
    c.applyFinding(finding(), T0);
    c.decide(T0);
    const stored = persist(c, T0);
    const [key, value] = [...stored].find(([k]) => k.startsWith('alert/'))!;
    const legacy = JSON.parse(JSON.stringify(value)) as { alert: { dedupKey: string; rule: string } };
    legacy.alert.dedupKey = 'calwatch/pool-exhaustion/LS01/Windows Server 2019';
    legacy.alert.rule = 'pool-exhaustion';
    const restored = core();
    for (const [k, v] of stored) if (!k.startsWith('alert/')) restored.restoreRecord(k, v, T0);
    expect(restored.restoreRecord(key.replace(/alert\/.*/, `alert/${legacy.alert.dedupKey}`), legacy, T0).ok).toBe(true);
    expect(kinds(restored.decide(T0 + MINUTE))).toEqual(['resolve:pool-exhaustion']);
  });
});

describe('findings that do not page', () => {
  it('low and info findings never page, whatever the minimum', () => {
    const c = core(ruleSettings({ finding: { minSeverity: 'info' } }));
    expect(kinds(feedFinding(c, finding({ severity: 'low' }), T0))).toEqual([]);
    expect(kinds(feedFinding(c, finding({ id: 'f-info', severity: 'info' }), T0))).toEqual([]);
  });

  it('a leak finding with nothing to reclaim does not page', () => {
    const c = core();
    expect(kinds(feedFinding(c, finding({ leakedCals: 0, reclaimableLicenseIds: [] }), T0))).toEqual([]);
  });
});

describe('revocation limit', () => {
  it('pages when the limit is hit and resolves when revocation is allowed again', () => {
    const c = core();
    const nextAllowed = new Date(T0 + 120 * MINUTE).toISOString();
    expect(kinds(feed(c, enriched(revocationLimit(T0, { nextAllowed })), T0))).toEqual(['trigger:revocation-limit']);
    const [trigger] = c.takeDeliveries();
    expect(trigger?.notification.summary).toContain(nextAllowed);
    expect(trigger?.notification.topOffenders).toEqual([{ name: 'PC-9', cals: null }]);
    expect(kinds(feed(c, enriched(revocationLimit(T0 + MINUTE, { nextAllowed, client: 'PC-10' })), T0 + MINUTE))).toEqual([]);
    // The new client waits for the update throttle, then goes out.
    expect(kinds(c.tick(T0 + 20 * MINUTE))).toEqual([]);
    expect(kinds(c.tick(T0 + 40 * MINUTE))).toEqual(['update:revocation-limit']);
    expect(c.takeDeliveries()[0]?.notification.topOffenders.map((o) => o.name)).toEqual(['PC-9', 'PC-10']);
    expect(kinds(c.tick(T0 + 100 * MINUTE))).toEqual([]);
    expect(kinds(c.tick(T0 + 125 * MINUTE))).toEqual(['resolve:revocation-limit']);
  });
});

describe('an idle notifier', () => {
  it('writes its advancing clock at most once a minute while nothing happens', () => {
    const c = core();
    feed(c, enriched(issued(T0)), T0 + 1000);
    c.takeDirty(T0 + 1000);
    const clockWrites: number[] = [];
    // Ticks every second for five minutes of quiet, well past the idle advance.
    for (let second = 2; second <= 300; second++) {
      const wall = T0 + second * 1000;
      expect(kinds(c.tick(wall))).toEqual([]);
      if (c.takeDirty(wall).some((r) => r.key === 'clock')) clockWrites.push(second);
    }
    expect(clockWrites.length).toBeGreaterThanOrEqual(4);
    expect(clockWrites.length).toBeLessThanOrEqual(5);
    for (let i = 1; i < clockWrites.length; i++) expect(clockWrites[i]! - clockWrites[i - 1]!).toBeGreaterThanOrEqual(60);
  });
});
