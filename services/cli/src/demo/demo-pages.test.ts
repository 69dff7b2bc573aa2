import { describe, expect, it } from 'vitest';
import { type CanonicalEvent, type EnrichedEvent, type Finding, Severity } from '@calwatch/model';
import { buildFleetConfig, simulateFleet } from '@calwatch/simulator';
import { calsBand, createNotifierCore, loadNotifierConfig, type Delivery } from '@calwatch/notifier';
import { createPipeline, parseCoreConfig } from '@calwatch/processor';
import { buildDemoFleetConfig } from './fleet';
import { createPageTally } from './page-tally';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The demo's defaults: 300 devices, 60 days, seed 42; its window ends at this instant. */
const END_MS = Date.parse('2026-06-01T00:00:00.000Z');
const DEMO = { devices: 300, days: 60, seed: 42 };
/** Event time the notifier sees per batch, as a live stream would hand it over. */
const BATCH_MS = 15 * 60_000;

interface Run {
  updates: Finding[];
  deliveries: Delivery[];
  holdMs: number;
  updateIntervalMs: number;
}

/**
 * The demo fleet through the detection pipeline and the notifier's decisions, in process
 * and deterministic: the notifier takes the findings and enriched events in batches as a
 * live stream would (its wall clock at the batch's event time), then time runs on two
 * days so held resolves and throttled updates go out.
 */
function runDemo(): Run {
  const detection = parseCoreConfig({});
  const notifier = loadNotifierConfig({
    NOTIFIER_TARGETS: JSON.stringify([{ name: 'demo', type: 'webhook', url: 'http://127.0.0.1:9/calwatch', minSeverity: 'info' }]),
  });
  const core = createNotifierCore({
    rules: notifier.rules,
    timing: notifier.timing,
    routes: [{ name: 'demo', minSeverity: 'info', rules: null, licenseServers: null }],
    links: notifier.links,
    idleAdvanceAfterMs: notifier.idleAdvanceAfterMs,
  });
  const updates: Finding[] = [];
  const deliveries: Delivery[] = [];
  let findings: Finding[] = [];
  let enriched: EnrichedEvent[] = [];
  const pipeline = createPipeline(detection, {
    onFinding: (f) => {
      updates.push(f);
      findings.push(f);
    },
    onEnriched: (e) => enriched.push(e),
  });
  const handOver = (wallMs: number) => {
    for (const e of enriched) core.applyEnriched(e, wallMs);
    for (const f of findings) core.applyFinding(f, wallMs);
    enriched = [];
    findings = [];
    core.decide(wallMs);
    core.tick(wallMs);
    for (const d of core.takeDeliveries()) deliveries.push(d);
  };

  const sim = simulateFleet(buildFleetConfig(buildDemoFleetConfig(DEMO, END_MS)));
  let batchEnd: number | null = null;
  for (const event of sim.events() as Iterable<CanonicalEvent>) {
    const at = Date.parse(event.eventTime);
    if (batchEnd === null) batchEnd = at + BATCH_MS;
    while (at >= batchEnd) {
      handOver(batchEnd);
      batchEnd += BATCH_MS;
    }
    expect(pipeline.apply(event).status).not.toBe('too-late');
  }
  pipeline.advanceTo(END_MS);
  pipeline.flush();
  for (let wall = END_MS; wall <= END_MS + 2 * DAY_MS; wall += BATCH_MS) handOver(wall);
  return { updates, deliveries, holdMs: detection.severity.holdDays * DAY_MS, updateIntervalMs: notifier.timing.updateIntervalMs };
}

const rank = (s: Finding['severity']) => Severity.options.indexOf(s);

describe('pages on the demo fleet', () => {
  const run = runDemo();
  const byIncident = new Map<string, Delivery[]>();
  for (const d of run.deliveries) byIncident.set(d.dedupKey, [...(byIncident.get(d.dedupKey) ?? []), d]);

  it('pages: the fleet is not quiet', () => {
    expect(run.deliveries.length).toBeGreaterThan(0);
  });

  it('no incident gets more than one trigger and one resolve', () => {
    const over: string[] = [];
    for (const [key, list] of byIncident) {
      const triggers = list.filter((d) => d.notification.action === 'trigger').length;
      const resolves = list.filter((d) => d.notification.action === 'resolve').length;
      if (triggers > 1 || resolves > 1) over.push(`${key}: ${triggers} triggers, ${resolves} resolves`);
    }
    expect(over).toEqual([]);
  });

  it('no finding\'s severity falls within the hold time of reaching it', () => {
    const flaps: string[] = [];
    const last = new Map<string, { severity: Finding['severity']; since: number }>();
    for (const f of run.updates) {
      const at = Date.parse(f.updatedAt);
      const before = last.get(f.id);
      if (f.state === 'resolved') {
        last.delete(f.id);
        continue;
      }
      if (before === undefined || rank(f.severity) > rank(before.severity)) last.set(f.id, { severity: f.severity, since: at });
      else if (rank(f.severity) < rank(before.severity)) {
        if (at - before.since < run.holdMs) flaps.push(`${f.id}: ${before.severity} -> ${f.severity} after ${((at - before.since) / HOUR_MS).toFixed(1)} h`);
        last.set(f.id, { severity: f.severity, since: at });
      }
    }
    expect(flaps).toEqual([]);
  });

  it('pages (triggers and resolves) at most once per high or critical incident plus its resolve; low and info findings never page', () => {
    const tally = createPageTally();
    for (const d of run.deliveries) tally.add({ action: d.notification.action, rule: d.notification.rule, dedupKey: d.dedupKey });
    const result = tally.result();
    const incidents = new Set(run.deliveries.filter((d) => d.notification.action === 'trigger' && rank(d.notification.severity) >= rank('high')).map((d) => d.dedupKey));
    const resolves = run.deliveries.filter((d) => d.notification.action === 'resolve' && incidents.has(d.dedupKey)).length;
    expect(result.pages).toBeLessThanOrEqual(incidents.size + resolves);
    expect(result.pages + result.updates).toBe(result.total);
    expect(run.deliveries.filter((d) => d.notification.action === 'trigger' && rank(d.notification.severity) < rank('medium'))).toEqual([]);
    // Pool exhaustion is paged once, under its own rule, from the processor's finding.
    expect(run.deliveries.filter((d) => d.notification.rule === 'pool-exhaustion' && d.notification.action === 'trigger')).toHaveLength(1);
  });

  it('sends an update only when the incident got worse, and not sooner than the update interval unless its severity rose', () => {
    const wrong: string[] = [];
    for (const [key, list] of byIncident) {
      let notified = list[0]!.notification;
      for (const d of list.slice(1)) {
        const n = d.notification;
        if (n.action !== 'update') continue;
        const rose = rank(n.severity) > rank(notified.severity);
        const worse = rose || calsBand(n.cals) > calsBand(notified.cals) || Number(n.metrics['devices']) > Number(notified.metrics['devices']) || (n.metrics['status'] === 'cause-stopped' && notified.metrics['status'] !== 'cause-stopped');
        const soon = Date.parse(n.at) - Date.parse(notified.at) < run.updateIntervalMs;
        if (!worse || (soon && !rose)) wrong.push(`${key} ${notified.at} -> ${n.at}`);
        notified = n;
      }
    }
    expect(wrong).toEqual([]);
  });
});
