import { describe, expect, it } from 'vitest';
import { diffSnapshot } from '@calwatch/ingest';
import { type CanonicalEvent, DeadLetter, type Finding, Revocation } from '@calwatch/model';
import { createPipeline, parseCoreConfig } from '../core/index';
import { byEventTime, createSeededRandom, createTimelineKit, verdictOf } from '../testing/timeline-kit';
import * as scenarios from '../testing/scenarios';
import { type CrashPoint, type InMemoryTopology, createInMemoryTopology } from '../testing/in-memory-topology';

const config = parseCoreConfig({});
const DAY = 86_400_000;
const MINUTE = 60_000;

/** Every scenario of the core on its own license server, in event-time order. */
function allScenarios(): CanonicalEvent[] {
  return byEventTime(
    [
      scenarios.clonedImage(),
      scenarios.vdiChurn(),
      scenarios.rebuiltDevice(),
      scenarios.duplicateName(),
      scenarios.exhaustedPool(),
      scenarios.cappedRevocations(),
      scenarios.healthyFleet(),
      scenarios.corruptedStore(),
      scenarios.issuanceSpike(),
    ].flatMap((s) => s.events),
  );
}

/**
 * Event time is per input partition (as in Kafka Streams and Flink): the timers of a
 * partition fire up to that partition's newest event. One device per partition seen at
 * the very end makes every partition reach the newest time, as the reference does.
 */
function closingEvents(topology: InMemoryTopology, partitions: number, lastMs: number): Array<{ event: CanonicalEvent; partition: number }> {
  const kit = createTimelineKit({ server: 'LS-CLOSE', start: new Date(lastMs).toISOString() });
  return Array.from({ length: partitions }, (_, p) => ({ event: kit.issue(9_000 + p, { hwid: `ff${p}0`, computer: `PC-CLOSE-${p}`, day: 0 }), partition: p }));
}

function reference(events: readonly CanonicalEvent[]): Map<string, Finding> {
  const pipeline = createPipeline(config);
  for (const event of events) expect(pipeline.apply(event).status).toBe('accepted');
  const newest = Math.max(...events.map((e) => Date.parse(e.eventTime)));
  pipeline.advanceTo(newest);
  return new Map(pipeline.findings().map((f) => [f.id, f]));
}

/** The in-process pipeline's revocation records, per key in emission order. */
function referenceRevocations(events: readonly CanonicalEvent[]): Map<string, Revocation[]> {
  const byKey = new Map<string, Revocation[]>();
  const pipeline = createPipeline(config, {
    onRevocation: (r, key) => byKey.set(key, [...(byKey.get(key) ?? []), r]),
  });
  for (const event of events) pipeline.apply(event);
  pipeline.advanceTo(Math.max(...events.map((e) => Date.parse(e.eventTime))));
  return byKey;
}

/** The revocations topic per key, in offset order (one key is one partition). */
function topicRevocations(topology: InMemoryTopology): Map<string, Revocation[]> {
  const byKey = new Map<string, Revocation[]>();
  for (const record of topology.records(topology.topics.revocations)) {
    const r = Revocation.parse(JSON.parse(record.value!.toString()));
    expect(record.key).toBe(`${r.licenseServer}|${r.licenseId}`);
    byKey.set(record.key!, [...(byKey.get(record.key!) ?? []), r]);
  }
  return byKey;
}

/** What the revoke table holds once every record is applied: each key's last record, if planned. */
function plan(byKey: Map<string, Revocation[]>) {
  const rows = [...byKey].map(([key, list]) => [key, list.at(-1)!] as const).filter(([, r]) => r.state === 'planned');
  return Object.fromEntries(rows.sort(([a], [b]) => (a < b ? -1 : 1)));
}

const sorted = <T>(byKey: Map<string, T>) => Object.fromEntries([...byKey].sort(([a], [b]) => (a < b ? -1 : 1)));

function verdicts(findings: Map<string, Finding>) {
  return Object.fromEntries([...findings].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, f]) => [id, verdictOf(f)]));
}

/** Every field: texts, timelines, revisions and update times included. */
function whole(findings: Map<string, Finding>) {
  return Object.fromEntries([...findings].sort(([a], [b]) => (a < b ? -1 : 1)));
}

interface Schedule {
  seed: number;
  maxBatch: number;
  crashRate: number;
}

/** Publishes, then runs randomly chosen tasks on random batch sizes, crashing some units of work. */
function run(partitions: number, schedule: Schedule) {
  const random = createSeededRandom(schedule.seed);
  const topology = createInMemoryTopology({ partitions, config });
  const events = allScenarios();
  const newest = Math.max(...events.map((e) => Date.parse(e.eventTime)));
  const closing = closingEvents(topology, partitions, newest);
  topology.publish(events);
  for (const { event, partition } of closing) topology.publish([event], partition);
  const crashes: CrashPoint[] = ['before-writes', 'after-outputs', 'after-changelog'];
  for (let guard = 0; guard < 100_000; guard++) {
    const busy = topology.busy();
    if (busy.length === 0) break;
    const pick = busy[Math.floor(random() * busy.length)]!;
    const crash = random() < schedule.crashRate ? crashes[Math.floor(random() * crashes.length)] : undefined;
    topology.deliver(pick.topic, pick.partition, 1 + Math.floor(random() * schedule.maxBatch), crash);
  }
  topology.settle();
  const all = [...events, ...closing.map((c) => c.event)];
  return { topology, expected: reference(all), expectedRevocations: referenceRevocations(all) };
}

/** Every copy of one (finding, revision) on the topic is the same update: repeats are harmless. */
function expectNoConflictingRepeats(topology: InMemoryTopology): void {
  const seen = new Map<string, string>();
  for (const record of topology.records(topology.topics.findings)) {
    const finding = JSON.parse(record.value!.toString()) as Finding;
    const key = `${finding.id}#${finding.revision}`;
    const text = record.value!.toString();
    const before = seen.get(key);
    if (before !== undefined) expect(text).toBe(before);
    seen.set(key, text);
  }
}

describe('the runtime tasks on in-memory topics', () => {
  it('give the findings of the in-process pipeline, on one partition and on three', () => {
    for (const partitions of [1, 3]) {
      const { topology, expected, expectedRevocations } = run(partitions, { seed: partitions, maxBatch: 7, crashRate: 0 });
      expect(expected.size).toBeGreaterThanOrEqual(6);
      expect(whole(topology.findings())).toEqual(whole(expected));
      expect(expectedRevocations.size).toBeGreaterThan(0);
      expect(sorted(topicRevocations(topology))).toEqual(sorted(expectedRevocations));
      expect(topology.metrics.deadLettered).toBe(0);
      expect(topology.metrics.duplicates).toBe(0);
    }
  });

  it('give the same findings whatever the batch sizes and the order tasks run in', () => {
    const reference = run(3, { seed: 1, maxBatch: 1_000, crashRate: 0 }).topology.findings();
    for (const seed of [2, 3, 4, 5]) {
      const { topology } = run(3, { seed, maxBatch: 1 + seed * 3, crashRate: 0 });
      expect(whole(topology.findings())).toEqual(whole(reference));
    }
  });

  it('lose and double nothing when units of work crash before, between and after their writes', () => {
    for (const seed of [11, 12, 13, 14, 15, 16]) {
      const { topology, expected, expectedRevocations } = run(3, { seed, maxBatch: 9, crashRate: 0.25 });
      expect(whole(topology.findings())).toEqual(whole(expected));
      // A crash may repeat records; the table they fold into is the same.
      expect(plan(topicRevocations(topology))).toEqual(plan(expectedRevocations));
      expectNoConflictingRepeats(topology);
    }
  });

  it('dead-letters records it cannot apply, with the reason and the original bytes', () => {
    const topology = createInMemoryTopology({ partitions: 2, config });
    const kit = createTimelineKit({ server: 'LS-DL' });
    const good = kit.issue(1, { hwid: 'ab01', computer: 'PC-1', day: 10 });
    // Re-sent while the first copy waits in the buffer: applied once.
    topology.publish([good, good]);
    topology.publishRaw({ key: 'ab01', value: '{not json' });
    topology.publishRaw({ key: 'ab01', value: JSON.stringify({ schemaVersion: 1, type: 'license.issued' }) });
    topology.publishRaw({ key: 'wrong-key', value: JSON.stringify(kit.issue(2, { hwid: 'ab01', computer: 'PC-1', day: 10 })) });
    // Far behind the released point of its partition (day 10 minus the lateness).
    const late = kit.issue(3, { hwid: 'ab01', computer: 'PC-1', day: 1 });
    topology.publish([late]);
    topology.settle();
    const letters = topology.records(topology.topics.deadLetter).map((r) => DeadLetter.parse(JSON.parse(r.value!.toString())));
    expect(letters.map((l) => l.code).sort()).toEqual([
      'PROCESSOR_EVENT_INVALID',
      'PROCESSOR_EVENT_MISKEYED',
      'PROCESSOR_EVENT_TOO_LATE',
      'PROCESSOR_RECORD_NOT_JSON',
    ]);
    const notJson = letters.find((l) => l.code === 'PROCESSOR_RECORD_NOT_JSON')!;
    expect(Buffer.from(notJson.originalBase64, 'base64').toString()).toBe('{not json');
    expect(notJson.location.ref).toMatch(/^mem\.events\[\d\]@\d+$/);
    const tooLate = letters.find((l) => l.code === 'PROCESSOR_EVENT_TOO_LATE')!;
    expect(JSON.parse(Buffer.from(tooLate.originalBase64, 'base64').toString())).toEqual(late);
    expect(topology.metrics.tooLate).toBe(1);
    expect(topology.metrics.duplicates).toBe(1);
    const enriched = topology.records(topology.topics.enriched).map((r) => JSON.parse(r.value!.toString()) as { event: { eventId: string } });
    expect(enriched.filter((e) => e.event.eventId === good.eventId)).toHaveLength(1);
  });

  it('write nothing once drained while live events wait out the lateness, and release them when the clock reaches them', () => {
    const partitions = 3;
    const events = allScenarios();
    const newest = Math.max(...events.map((e) => Date.parse(e.eventTime)));
    // Live data: the wall clock is just past the newest event, so the last hour stays buffered.
    const topology = createInMemoryTopology({ partitions, config, nowMs: newest + MINUTE });
    const closing = closingEvents(topology, partitions, newest);
    topology.publish(events);
    for (const { event, partition } of closing) topology.publish([event], partition);
    topology.settle();
    const held = () =>
      topology
        .status()
        .filter((s) => String(s.task).startsWith(`${topology.topics.events}:`))
        .reduce((n, s) => n + Number(s.buffered), 0);
    expect(held()).toBeGreaterThanOrEqual(partitions);

    /** Punctuations every `stepMs` with no input; what they wrote, on any topic. */
    const idleFor = (rounds: number, stepMs: number) => {
      const before = topology.written();
      for (let round = 0; round < rounds; round++) {
        topology.advance(stepMs);
        topology.settle();
      }
      return topology.written() - before;
    };
    // A minute of punctuations reaches none of the buffered events: nothing may be written.
    const reached = newest + 2 * MINUTE - config.lateness.allowedLatenessMs;
    expect(events.filter((e) => Date.parse(e.eventTime) > reached - 2 * MINUTE && Date.parse(e.eventTime) <= reached)).toEqual([]);
    expect(idleFor(120, 500)).toBe(0);
    expect(held()).toBeGreaterThanOrEqual(partitions);

    // The clock passes the lateness: everything comes out, in the pipeline's order.
    idleFor(13, 5 * MINUTE);
    expect(held()).toBe(0);
    expect(whole(topology.findings())).toEqual(whole(reference([...events, ...closing.map((c) => c.event)])));
    expect(topology.metrics.tooLate).toBe(0);
    // Drained and idle: silence, however long the clock runs.
    expect(idleFor(120, 500)).toBe(0);
    expect(idleFor(10, DAY)).toBe(0);
  });

  it('release the newest event once the clock reaches it when no lateness is allowed', () => {
    // The apply path releases below its horizon; with no lateness the newest event sits
    // exactly on it and only the clock can let it out.
    const noLateness = parseCoreConfig({ lateness: { allowedLatenessMs: 0 } });
    const events = byEventTime(scenarios.clonedImage().events);
    const newest = Math.max(...events.map((e) => Date.parse(e.eventTime)));
    const topology = createInMemoryTopology({ partitions: 3, config: noLateness, nowMs: newest + MINUTE });
    topology.publish(events);
    topology.settle();
    topology.advance(5_000);
    topology.settle();
    const pipeline = createPipeline(noLateness);
    for (const event of events) pipeline.apply(event);
    pipeline.advanceTo(newest);
    const expected = new Map(pipeline.findings().map((f) => [f.id, f]));
    expect(expected.size).toBeGreaterThan(0);
    expect(verdicts(topology.findings())).toEqual(verdicts(expected));
  });

  /**
   * Every scenario on three partitions: the first half delivered `firstBatch` records per
   * partition, then `interrupt` (the tasks lose their memory), then the rest to the end; the
   * findings against the in-process pipeline's.
   */
  function interrupted(firstBatch: number, interrupt: (topology: InMemoryTopology) => void) {
    const topology = createInMemoryTopology({ partitions: 3, config });
    const events = allScenarios();
    const newest = Math.max(...events.map((e) => Date.parse(e.eventTime)));
    const closing = closingEvents(topology, 3, newest + DAY);
    const half = Math.floor(events.length / 2);
    topology.publish(events.slice(0, half));
    for (const { topic, partition } of topology.busy()) topology.deliver(topic, partition, firstBatch);
    interrupt(topology);
    topology.publish(events.slice(half));
    for (const { event, partition } of closing) topology.publish([event], partition);
    topology.settle();
    return { found: topology.findings(), expected: reference([...events, ...closing.map((c) => c.event)]) };
  }

  it('comes back from its changelogs alone: every task killed mid-stream gives the same findings', () => {
    const { found, expected } = interrupted(10, (topology) => {
      for (let p = 0; p < 3; p++) topology.kill(topology.topics.events, p);
    });
    expect(verdicts(found)).toEqual(verdicts(expected));
  });

  it('comes back from a changelog whose states carry no due time (as written before they did): their timers are armed from the states', () => {
    const { found, expected } = interrupted(Number.MAX_SAFE_INTEGER, (topology) => {
      const changelog = topology.topics.processorChangelog;
      // A head record is [dueAt, head]; before, it was the head alone.
      const isHead = (key: string | null) => key !== null && key.startsWith('[') && (JSON.parse(key) as string[]).length === 2;
      const heads = topology.records(changelog).filter((r) => isHead(r.key) && r.value !== null);
      expect(heads.filter((r) => (JSON.parse(r.value!.toString()) as [number | null, unknown])[0] !== null).length).toBeGreaterThan(0);
      topology.rewrite(changelog, (record) =>
        isHead(record.key) && record.value !== null ? { ...record, value: Buffer.from(JSON.stringify((JSON.parse(record.value.toString()) as [unknown, unknown])[1])) } : record,
      );
      topology.restart();
    });
    expect(whole(found)).toEqual(whole(expected));
  });
});

describe('a license server onboarded while others are live', () => {
  const partitions = 3;
  const T = Date.parse('2024-06-01T00:00:00.000Z');
  const iso = (ms: number) => new Date(ms).toISOString();

  /** The fleet already live (every events partition at T), then the new server's first snapshot, diffed as the collector does. */
  function onboard() {
    const topology = createInMemoryTopology({ partitions, config, nowMs: T + MINUTE });
    for (const { event, partition } of closingEvents(topology, partitions, T)) topology.publish([event], partition);
    topology.settle();
    const kit = createTimelineKit({ server: 'LS-NEW', start: iso(T - 90 * DAY) });
    const history = [
      kit.issue(1, { hwid: 'bb01', computer: 'PC-N1', day: 0 }),
      kit.issue(2, { hwid: 'bb02', computer: 'PC-N2', day: 30 }),
      kit.issue(3, { hwid: 'bb03', computer: 'PC-N3', day: 60 }),
      kit.issue(4, { hwid: 'bb04', computer: 'PC-N4', day: 80 }),
    ];
    // Issued 40 and 20 minutes before T: within the allowed lateness (1 h) of every partition.
    const recent = [kit.issue(5, { hwid: 'bb05', computer: 'PC-N5', day: 90 - 40 / 1440 }), kit.issue(6, { hwid: 'bb06', computer: 'PC-N6', day: 90 - 20 / 1440 })];
    const first = diffSnapshot(undefined, {
      licenseServer: 'LS-NEW',
      takenAt: iso(T + 5 * MINUTE),
      licenses: [...history, ...recent].map((e) => ('license' in e ? e.license : null)!),
      source: { kind: 'wmi-issued-licenses', ref: 'onboarding' },
    });
    topology.publish(byEventTime(first.events));
    topology.settle();
    return { topology, state: first.state };
  }

  const letters = (topology: InMemoryTopology) => topology.records(topology.topics.deadLetter).map((r) => DeadLetter.parse(JSON.parse(r.value!.toString())));
  const licenseIdOf = (value: Buffer | string) => (JSON.parse(value.toString()) as { license: { licenseId: number } }).license.licenseId;
  const enrichedOf = (topology: InMemoryTopology) =>
    topology
      .records(topology.topics.enriched)
      .map((r) => JSON.parse(r.value!.toString()) as { event: CanonicalEvent })
      .filter((e) => e.event.licenseServer === 'LS-NEW')
      .map((e) => `${e.event.type}:${'license' in e.event ? e.event.license.licenseId : ''}`);

  it('dead-letters the history of its first snapshot as too late, applies the recent part and every later change', () => {
    const { topology, state } = onboard();
    const tooLate = letters(topology);
    expect(tooLate.map((l) => l.code)).toEqual(Array.from({ length: 4 }, () => 'PROCESSOR_EVENT_TOO_LATE'));
    expect(tooLate.map((l) => licenseIdOf(Buffer.from(l.originalBase64, 'base64'))).sort()).toEqual([1, 2, 3, 4]);
    // The recent issues wait out the lateness like any live event, then are applied.
    topology.advance(2 * 60 * MINUTE);
    topology.settle();
    expect(enrichedOf(topology).sort()).toEqual(['license.issued:5', 'license.issued:6']);

    // A day later, licences the processor never saw issued are renewed, revoked and returned:
    // the events carry the facts, at the snapshot time.
    const renewed = { ...state.licenses['1']!, expirationDate: iso(T + 60 * DAY) };
    const revoked = { ...state.licenses['3']!, status: 'revoked' as const };
    const next = diffSnapshot(state, {
      licenseServer: 'LS-NEW',
      takenAt: iso(T + DAY),
      licenses: Object.values(state.licenses)
        .filter((l) => l.licenseId !== 4)
        .map((l) => (l.licenseId === 1 ? renewed : l.licenseId === 3 ? revoked : l)),
      source: { kind: 'wmi-issued-licenses', ref: 'next' },
    });
    topology.publish(byEventTime(next.events));
    topology.advance(DAY + 2 * 60 * MINUTE);
    topology.settle();
    expect(enrichedOf(topology).sort()).toEqual(['license.issued:5', 'license.issued:6', 'license.renewed:1', 'license.returned:4', 'license.revoked:3']);
    expect(letters(topology)).toHaveLength(4);
  });

  it('is not helped by a larger allowed lateness after the fact: the history stays too late, new events are only held longer', () => {
    const { topology } = onboard();
    const first = letters(topology);
    expect(first).toHaveLength(4);
    // Restarted with a year of lateness, the dead-lettered history re-sent as it was.
    topology.restart(parseCoreConfig({ lateness: { allowedLatenessMs: 365 * DAY } }));
    for (const letter of first) {
      const original = Buffer.from(letter.originalBase64, 'base64').toString();
      topology.publishRaw({ key: (JSON.parse(original) as CanonicalEvent).licenseServer, value: original });
    }
    const kit = createTimelineKit({ server: 'LS-CLOSE', start: iso(T + DAY) });
    const fresh = kit.issue(9_500, { hwid: 'fe01', computer: 'PC-FRESH', day: 0 });
    topology.publish([fresh]);
    topology.advance(2 * DAY);
    topology.settle();
    const again = letters(topology).slice(first.length);
    expect(again.map((l) => l.code)).toEqual(Array.from({ length: 4 }, () => 'PROCESSOR_EVENT_TOO_LATE'));
    // The release point stays where it was; a new event now waits a year instead of an hour.
    const enriched = topology.records(topology.topics.enriched).map((r) => (JSON.parse(r.value!.toString()) as { event: CanonicalEvent }).event.eventId);
    expect(enriched).not.toContain(fresh.eventId);
  });
});
