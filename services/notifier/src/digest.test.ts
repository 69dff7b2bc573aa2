import { describe, expect, it } from 'vitest';
import { loadNotifierConfig } from './config';
import { DIGEST_ENTRIES_MAX, digestBoundary } from './digest';
import { createNotifierCore, type NotifierCore } from './notifier-core';
import { buildTargetRequest } from './target-request';
import { MINUTE, T0, finding, ruleSettings, timing } from './test-fixtures';

const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** 07:00 UTC of T0's day; T0 is 09:00. */
const SEVEN = Math.floor(T0 / DAY) * DAY + 7 * HOUR;

function core(): NotifierCore {
  return createNotifierCore({
    rules: ruleSettings(),
    timing,
    routes: [
      { name: 'all', minSeverity: 'info', rules: null, licenseServers: null },
      { name: 'digest', minSeverity: 'critical', rules: null, licenseServers: null },
    ],
    links: { finding: null, server: null },
    idleAdvanceAfterMs: MINUTE,
    digest: { targets: ['digest'], hourUtc: 7, listed: 2 },
    digestLink: 'https://kibana.example/digest',
  });
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Folds a finding in and decides, at wall time `wall`. */
function feed(c: NotifierCore, f: ReturnType<typeof finding>, wall: number): void {
  c.applyFinding(f, wall);
  c.decide(wall);
}

function persist(c: NotifierCore, wall: number, into = new Map<string, unknown>()): Map<string, unknown> {
  for (const { key, value } of c.takeDirty(wall)) {
    if (value === null) into.delete(key);
    else into.set(key, JSON.parse(JSON.stringify(value)));
  }
  return into;
}

describe('daily digest of low and info findings', () => {
  it('the boundary is the latest digest hour at or before now (UTC)', () => {
    expect(digestBoundary(T0, 7)).toBe(SEVEN);
    expect(digestBoundary(SEVEN - 1, 7)).toBe(SEVEN - DAY);
    expect(digestBoundary(SEVEN, 7)).toBe(SEVEN);
  });

  it('sends once a day at the hour, to the digest targets only, listing what opened, changed or resolved', () => {
    const c = core();
    c.tick(T0); // first start: marks today's boundary, sends nothing
    expect(c.takeDeliveries()).toEqual([]);
    feed(c, finding({ id: 'f-low', severity: 'low' }), T0 + HOUR);
    feed(c, finding({ id: 'f-info', kind: 'duplicate-name', severity: 'info', computers: ['WS-1', 'WS-2'], computerCount: 2 }), T0 + HOUR);
    feed(c, finding({ id: 'f-gone', kind: 'rebuilt-device', severity: 'low', revision: 3, state: 'resolved', updatedAt: iso(T0 + 2 * HOUR) }), T0 + 2 * HOUR);
    feed(c, finding({ id: 'f-high', severity: 'high' }), T0 + 2 * HOUR);
    // The high finding paged at once; nothing of the others yet.
    expect(c.takeDeliveries().map((d) => [d.target, d.notification.rule])).toEqual([['all', 'high-severity-finding']]);
    feed(c, finding({ id: 'f-low', severity: 'low', revision: 2, updatedAt: iso(T0 + 3 * HOUR) }), T0 + 3 * HOUR);

    c.tick(SEVEN + DAY - 1);
    expect(c.takeDeliveries()).toEqual([]);
    c.tick(SEVEN + DAY);
    const [digest, ...rest] = c.takeDeliveries();
    expect(rest).toEqual([]);
    expect(digest?.target).toBe('digest');
    expect(digest?.notification).toMatchObject({
      action: 'digest',
      rule: 'digest',
      severity: 'info',
      dedupKey: `calwatch/digest/${iso(SEVEN + DAY).slice(0, 10)}`,
      since: iso(SEVEN),
      link: 'https://kibana.example/digest',
      metrics: { findings: 3, 'cloned-image': '1 opened, 0 changed, 0 resolved', 'duplicate-name': '1 opened, 0 changed, 0 resolved', 'rebuilt-device': '0 opened, 0 changed, 1 resolved' },
    });
    // The first two, then a count.
    expect(digest!.notification.summary.split('\n')).toEqual([
      'opened low cloned-image on LS01: VDI-001, VDI-002, VDI-003',
      'opened info duplicate-name on LS01: WS-1, WS-2',
      'and 1 more',
    ]);
    // The next tick the same day sends nothing; nothing new, the next day sends nothing either.
    c.tick(SEVEN + DAY + HOUR);
    c.tick(SEVEN + 2 * DAY);
    expect(c.takeDeliveries()).toEqual([]);
  });

  it('a restart neither resends a day nor skips one, and redelivers an undelivered digest', () => {
    const first = core();
    first.tick(T0);
    feed(first, finding({ id: 'f-low', severity: 'low' }), T0 + HOUR);
    first.tick(SEVEN + DAY);
    const [sent] = first.takeDeliveries();
    const stored = persist(first, SEVEN + DAY);

    // Restarted the same day: the undelivered digest comes back, no second one is made.
    const second = core();
    for (const [key, value] of stored) expect(second.restoreRecord(key, value, SEVEN + DAY + MINUTE)).toEqual({ ok: true });
    expect(second.pendingDeliveries().map((d) => [d.target, d.notification.dedupKey, d.seq])).toEqual([['digest', sent!.dedupKey, sent!.seq]]);
    second.markDelivered(sent!.dedupKey, sent!.seq, 'digest', SEVEN + DAY + MINUTE);
    expect(second.pendingDeliveries()).toEqual([]);
    second.tick(SEVEN + DAY + 2 * MINUTE);
    expect(second.takeDeliveries()).toEqual([]);
    feed(second, finding({ id: 'f-info', severity: 'info' }), SEVEN + DAY + HOUR);
    const later = persist(second, SEVEN + DAY + HOUR, stored);

    // Down over the next digest hour: the restart after it sends the missed digest at once.
    const third = core();
    for (const [key, value] of later) third.restoreRecord(key, value, SEVEN + 2 * DAY + 3 * HOUR);
    third.tick(SEVEN + 2 * DAY + 3 * HOUR);
    const missed = third.takeDeliveries();
    expect(missed.map((d) => [d.target, d.notification.metrics['findings'], d.notification.since])).toEqual([['digest', 1, iso(SEVEN + DAY)]]);
    expect(missed[0]!.seq).toBeGreaterThan(sent!.seq);
  });

  it('names at most a bounded number of findings and counts the rest', () => {
    const c = core();
    c.tick(T0);
    for (let i = 0; i < DIGEST_ENTRIES_MAX + 5; i++) c.applyFinding(finding({ id: `f-${i}`, severity: 'low' }), T0 + HOUR);
    c.decide(T0 + HOUR);
    c.tick(SEVEN + DAY);
    const [digest] = c.takeDeliveries();
    expect(digest?.notification.metrics).toMatchObject({ findings: DIGEST_ENTRIES_MAX + 5, 'cloned-image (not listed)': 5 });
  });

  it('goes out in every target format; PagerDuty gets a change event, which pages no one', () => {
    const c = core();
    c.tick(T0);
    feed(c, finding({ id: 'f-low', severity: 'low' }), T0 + HOUR);
    c.tick(SEVEN + DAY);
    const [delivery] = c.takeDeliveries();
    expect(delivery).toBeDefined();
    const notification = delivery!.notification;
    const pd = buildTargetRequest({ name: 'pd', type: 'pagerduty', url: 'https://events.pagerduty.com/v2/enqueue', routingKey: 'rk', minSeverity: 'info' }, notification, SEVEN + DAY);
    expect(pd.url).toBe('https://events.pagerduty.com/v2/change/enqueue');
    const event = JSON.parse(pd.body) as Record<string, unknown>;
    expect(event).not.toHaveProperty('event_action');
    expect(event).toMatchObject({ routing_key: 'rk', payload: { source: 'calwatch', custom_details: { findings: ['opened low cloned-image on LS01: VDI-001, VDI-002, VDI-003'] } }, links: [{ href: 'https://kibana.example/digest' }] });
    const slack = JSON.parse(buildTargetRequest({ name: 's', type: 'slack', url: 'https://hooks.slack.com/x', minSeverity: 'info' }, notification, SEVEN + DAY).body) as { blocks: Array<{ text?: { text?: string } }> };
    expect(slack.blocks[0]?.text?.text).toMatch(/^DIGEST: Daily digest: 1 low\/info finding since/);
    const teams = buildTargetRequest({ name: 't', type: 'teams', url: 'https://example.webhook.office.com/x', minSeverity: 'info' }, notification, SEVEN + DAY).body;
    expect(teams).toContain('DIGEST: Daily digest');
    const webhook = JSON.parse(buildTargetRequest({ name: 'w', type: 'webhook', url: 'https://itsm.example/h', minSeverity: 'info', headers: {} }, notification, SEVEN + DAY).body) as Record<string, unknown>;
    expect(webhook).toMatchObject({ type: 'calwatch.alert', action: 'digest', rule: 'digest' });
  });

  it('is configured by target names that must exist', () => {
    const targets = JSON.stringify([{ name: 'slack-licensing', type: 'slack', url: 'https://hooks.slack.com/services/x' }]);
    const config = loadNotifierConfig({ NOTIFIER_TARGETS: targets, NOTIFIER_DIGEST_TARGETS: 'slack-licensing', NOTIFIER_DIGEST_HOUR_UTC: '6', NOTIFIER_KIBANA_URL: 'https://kibana.example/' });
    expect(config.digest).toEqual({ targets: ['slack-licensing'], hourUtc: 6, listed: 10 });
    expect(config.digestLink).toContain("calwatch.finding.severity:(low or info)");
    expect(loadNotifierConfig({ NOTIFIER_TARGETS: targets }).digest).toBeNull();
    expect(() => loadNotifierConfig({ NOTIFIER_TARGETS: targets, NOTIFIER_DIGEST_TARGETS: 'nope' })).toThrow(/NOTIFIER_DIGEST_TARGETS: no target named nope/);
  });
});
