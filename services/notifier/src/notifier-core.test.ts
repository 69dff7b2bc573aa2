import { describe, expect, it } from 'vitest';
import type { Decision } from './alert-machine';
import { createNotifierCore, type NotifierCore } from './notifier-core';
import type { TargetRoute } from './routing';
import type { RuleSettings } from './rule-settings';
import { MINUTE, T0, enriched, finding, issued, keyPack, poolExhausted, revocationLimit, ruleSettings, spikeFinding, timing } from './test-fixtures';

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

/** Issues `count` CALs one second apart from `start`, wall clock 1 s behind. */
function issueMany(c: NotifierCore, start: number, count: number): Decision[] {
  const out: Decision[] = [];
  for (let i = 0; i < count; i++) out.push(...feed(c, enriched(issued(start + i * 1000, { computer: `PC-${i}` })), start + i * 1000 + 1000));
  return out;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** A persisted copy of everything the core wrote, as the compacted topic would keep it. */
function persist(c: NotifierCore, wall: number, into = new Map<string, unknown>()): Map<string, unknown> {
  for (const { key, value } of c.takeDirty(wall)) {
    if (value === null) into.delete(key);
    else into.set(key, JSON.parse(JSON.stringify(value)));
  }
  return into;
}

describe('leak-rate spike', () => {
  it('has no detection of its own: a burst of new CALs never pages by itself', () => {
    const c = core();
    expect(kinds(issueMany(c, T0, 200))).toEqual([]);
    expect(kinds(c.tick(T0 + 3 * 60 * MINUTE))).toEqual([]);
    expect(c.takeDeliveries()).toEqual([]);
  });

  it('pages the processor\'s spike finding once under its own rule, keyed by the finding, and resolves with it', () => {
    const c = core();
    expect(kinds(feedFinding(c, spikeFinding(), T0))).toEqual(['trigger:leak-rate-spike']);
    const [trigger] = c.takeDeliveries();
    expect(trigger?.dedupKey).toBe('calwatch/leak-rate-spike/leak-rate-spike:ls01-2019');
    expect(trigger?.notification).toMatchObject({
      action: 'trigger',
      rule: 'leak-rate-spike',
      severity: 'high',
      licenseServer: 'LS01',
      product: 'Windows Server 2019',
      findingId: 'leak-rate-spike:ls01-2019',
      link: 'https://kibana.example/f/leak-rate-spike%3Als01-2019',
    });
    // The next day's refresh of the same verdict is not news.
    const later = iso(T0 + 24 * 60 * MINUTE);
    expect(kinds(feedFinding(c, spikeFinding({ revision: 2, updatedAt: later, lastSeen: later }), T0 + 24 * 60 * MINUTE))).toEqual([]);
    expect(kinds(feedFinding(c, spikeFinding({ revision: 3, state: 'resolved', updatedAt: later }), T0 + 25 * 60 * MINUTE))).toEqual(['resolve:leak-rate-spike']);
    expect(c.takeDeliveries().map((d) => d.notification.action)).toEqual(['resolve']);
  });

  it('a medium spike finding does not page (the minimum severity holds for it too)', () => {
    const c = core();
    expect(kinds(feedFinding(c, spikeFinding({ severity: 'medium' }), T0))).toEqual([]);
  });

  it('can be switched off by rule', () => {
    const c = core(ruleSettings({ enabled: ['high-severity-finding'] }));
    expect(kinds(feedFinding(c, spikeFinding(), T0))).toEqual([]);
  });
});

describe('routing', () => {
  it('sends to matching targets, escalation reaches the stricter one as a trigger, resolve to all paged', () => {
    const c = core(ruleSettings(), [ALL, CRITICAL_ONLY, OTHER_SERVER, FINDINGS_ONLY]);
    feedFinding(c, spikeFinding(), T0);
    expect(c.takeDeliveries().map((d) => [d.target, d.notification.action, d.notification.severity])).toEqual([['all', 'trigger', 'high']]);
    feedFinding(c, spikeFinding({ revision: 2, severity: 'critical', updatedAt: iso(T0 + 5 * MINUTE) }), T0 + 5 * MINUTE);
    // Critical: sent at once despite the throttle.
    expect(c.takeDeliveries().map((d) => [d.target, d.notification.action, d.notification.severity])).toEqual([
      ['all', 'update', 'critical'],
      ['crit', 'trigger', 'critical'],
    ]);
    feedFinding(c, spikeFinding({ revision: 3, severity: 'critical', state: 'resolved', updatedAt: iso(T0 + 60 * MINUTE) }), T0 + 60 * MINUTE);
    expect(c.takeDeliveries().map((d) => [d.target, d.notification.action])).toEqual([
      ['all', 'resolve'],
      ['crit', 'resolve'],
    ]);
  });
});

describe('restart', () => {
  it('restored state neither re-pages nor forgets to resolve; undelivered notifications come back', () => {
    const first = core();
    feedFinding(first, spikeFinding(), T0);
    const [trigger] = first.takeDeliveries();
    expect(trigger?.notification.action).toBe('trigger');
    first.noteApplied('calwatch.findings', 0, '41');
    const stored = persist(first, T0 + 10 * MINUTE);

    const second = core();
    for (const [key, value] of stored) expect(second.restoreRecord(key, value, T0 + 11 * MINUTE)).toEqual({ ok: true });
    expect(second.appliedOffset('calwatch.findings', 0)).toBe('41');
    expect(second.openAlerts()).toHaveLength(1);
    // Not acknowledged before the restart: delivered again, same sequence number.
    expect(second.pendingDeliveries().map((d) => [d.target, d.notification.action, d.seq])).toEqual([['all', 'trigger', trigger!.seq]]);
    second.markDelivered(trigger!.dedupKey, trigger!.seq, 'all', T0 + 11 * MINUTE);
    expect(second.pendingDeliveries()).toEqual([]);

    // The spike goes on after the restart: no second page.
    expect(kinds(feedFinding(second, spikeFinding({ revision: 2, updatedAt: iso(T0 + 12 * MINUTE) }), T0 + 12 * MINUTE))).toEqual([]);
    expect(second.takeDeliveries()).toEqual([]);
    // It ends: the resolve still comes.
    const resolved = spikeFinding({ revision: 3, state: 'resolved', updatedAt: iso(T0 + 70 * MINUTE) });
    expect(kinds(feedFinding(second, resolved, T0 + 70 * MINUTE))).toEqual(['resolve:leak-rate-spike']);
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
    feedFinding(c, spikeFinding(), T0);
    feedFinding(c, spikeFinding({ revision: 2, state: 'resolved', updatedAt: iso(T0 + 30 * MINUTE) }), T0 + 30 * MINUTE);
    c.tick(T0 + 40 * MINUTE);
    for (const d of c.takeDeliveries()) c.markDelivered(d.dedupKey, d.seq, d.target, T0 + 40 * MINUTE);
    const stored = persist(c, T0 + 40 * MINUTE);
    expect([...stored.keys()].some((k) => k.startsWith('alert/'))).toBe(true);
    c.tick(T0 + 200 * MINUTE);
    persist(c, T0 + 200 * MINUTE, stored);
    expect([...stored.keys()].some((k) => k.startsWith('alert/'))).toBe(false);
  });

  it('drops what an older notifier kept for its own spike rule: interval counts and key pack inventories', () => {
    const c = core();
    const legacySeries = {
      licenseServer: 'LS01',
      product: 'Windows Server 2019',
      buckets: [{ start: T0, issued: 40, consumed: 40, released: 0, alerting: true, offenders: {}, findings: {}, classes: {} }],
      spike: { active: true, since: T0, belowCount: 0, lastClosedIdx: null },
      revocation: null,
    };
    expect(c.restoreRecord('series/LS01/Windows Server 2019', legacySeries, T0)).toEqual({ ok: true });
    expect(c.restoreRecord('keypacks/LS01', { '3': { product: 'Windows Server 2019', available: 5, total: 100, at: T0 } }, T0)).toEqual({ ok: true });
    expect(c.restoreRecord('clock', { baseMs: T0 }, T0)).toEqual({ ok: true });
    expect(kinds(c.tick(T0 + MINUTE))).toEqual([]);
    const written = new Map(c.takeDirty(T0 + MINUTE).map((r) => [r.key, r.value]));
    expect(written.get('keypacks/LS01')).toBeNull();
    expect(written.get('series/LS01/Windows Server 2019')).toBeNull();
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
    const c = core();
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

describe('alerts of retired rules: spikes', () => {
  it('resolves, after a restore, an open alert of the notifier\'s former spike rule', () => {
    const c = core();
    c.applyFinding(finding(), T0);
    c.decide(T0);
    const stored = persist(c, T0);
    const [, value] = [...stored].find(([k]) => k.startsWith('alert/'))!;
    const legacy = JSON.parse(JSON.stringify(value)) as { alert: { dedupKey: string; rule: string } };
    legacy.alert.dedupKey = 'calwatch/leak-rate-spike/LS01/Windows Server 2019';
    legacy.alert.rule = 'leak-rate-spike';
    const restored = core();
    for (const [k, v] of stored) if (!k.startsWith('alert/')) restored.restoreRecord(k, v, T0);
    expect(restored.restoreRecord(`alert/${legacy.alert.dedupKey}`, legacy, T0).ok).toBe(true);
    expect(kinds(restored.decide(T0 + MINUTE))).toEqual(['resolve:leak-rate-spike']);
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
