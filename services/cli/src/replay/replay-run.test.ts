import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMix, simulateFleet, writeFleet } from '@calwatch/simulator';
import { readCheckpoint } from './checkpoint';
import { planInputs, type InputPlan, type ReplayInput } from './inputs';
import { runReplay } from './replay-run';
import type { ItemEntry, ReplaySink, SendResult } from './sink';
import type { ReadOptions } from './sources';

let dir: string;
let plan: InputPlan;

/** Records what it is sent, in order; can stop the replay after a number of sends. */
function recordingSink(options: { abortAfterSends?: { count: number; controller: AbortController } } = {}) {
  const sent: Array<{ kind: 'snapshot'; path: string; at: number } | { kind: 'event'; id: string; at: number } | { kind: 'rejected'; code: string }> = [];
  let sends = 0;
  const done = (records: number): SendResult => {
    sends += 1;
    const abort = options.abortAfterSends;
    if (abort !== undefined && sends >= abort.count) abort.controller.abort();
    return { records, accepted: records, rejected: 0, events: records, stale: false, rejections: [] };
  };
  const sink: ReplaySink = {
    target: 'kafka:test.',
    start: async () => undefined,
    async sendItems(entries: readonly ItemEntry[]) {
      for (const entry of entries) {
        if (entry.item.kind === 'event') sent.push({ kind: 'event', id: entry.item.event.eventId, at: Date.parse(entry.item.event.eventTime) });
        else if (entry.item.kind === 'rejected') sent.push({ kind: 'rejected', code: entry.item.rejection.code });
      }
      return done(entries.length);
    },
    async sendSnapshot(input: ReplayInput, read: ReadOptions) {
      read.onBytes?.(input.size);
      sent.push({ kind: 'snapshot', path: input.path, at: Date.parse(input.snapshotTime) });
      return done(1);
    },
    close: async () => undefined,
  };
  return { sink, sent };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'calwatch-replay-run-'));
  const simulation = simulateFleet({ seed: 7, devices: 30, days: 6, mix: parseMix('cloned=1x3,vdi=3,corrupted=2'), pool: 20 });
  await writeFleet(simulation, { outDir: join(dir, 'fleet'), formats: ['ps51-csv', 'winlogbeat'] });
  plan = await planInputs(['fleet/ps51-csv', 'fleet/winlogbeat', 'fleet/client-stores'], { cwd: dir });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runReplay', () => {
  it('sends everything in time order: snapshots at their time, events merged, and finishes the checkpoint', async () => {
    const { sink, sent } = recordingSink();
    const checkpoint = join(dir, 'whole.json');
    const result = await runReplay({ plan, sink, batchRecords: 7, signal: new AbortController().signal, checkpoint: { path: checkpoint, resume: false } });
    expect(result.interrupted).toBe(false);
    const snapshots = sent.filter((s) => s.kind === 'snapshot');
    expect(snapshots).toHaveLength(plan.inputs.filter((i) => i.role !== 'events').length);
    const times = sent.flatMap((s) => (s.kind === 'rejected' ? [] : [s.at]));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // The issued-license export of an instant goes before that instant's key packs and events.
    const first = sent.findIndex((s) => s.kind === 'snapshot' && s.path.includes('issued-licenses'));
    expect(sent.slice(0, first).every((s) => s.kind === 'rejected' || s.at < (sent[first] as { at: number }).at)).toBe(true);
    // One record per item sent and, with this sink, one per snapshot.
    expect(result.totals.records).toBe(sent.length);
    expect(result.totals.snapshots).toBe(snapshots.length);
    const saved = await readCheckpoint(checkpoint);
    expect(saved?.finished).toBe(true);
    expect(Object.values(saved!.inputs).every((i) => i.done)).toBe(true);
  });

  it('stops after the send in flight and resumes where it stopped, sending nothing twice', async () => {
    const whole = recordingSink();
    await runReplay({ plan, sink: whole.sink, batchRecords: 5, signal: new AbortController().signal });

    const checkpoint = join(dir, 'resume.json');
    const controller = new AbortController();
    const first = recordingSink({ abortAfterSends: { count: 9, controller } });
    const stopped = await runReplay({ plan, sink: first.sink, batchRecords: 5, signal: controller.signal, checkpoint: { path: checkpoint, resume: false } });
    expect(stopped.interrupted).toBe(true);
    expect((await readCheckpoint(checkpoint))?.finished).toBe(false);

    const second = recordingSink();
    const resumed = await runReplay({ plan, sink: second.sink, batchRecords: 5, signal: new AbortController().signal, checkpoint: { path: checkpoint, resume: true } });
    expect(resumed.interrupted).toBe(false);
    expect(resumed.resumed).not.toBeNull();
    expect(first.sent.length).toBeGreaterThan(0);
    expect(second.sent.length).toBeGreaterThan(0);
    expect([...first.sent, ...second.sent]).toEqual(whole.sent);
    expect(resumed.totals.records).toBe(stopped.totals.records + resumed.run.records);

    const third = recordingSink();
    const again = await runReplay({ plan, sink: third.sink, batchRecords: 5, signal: new AbortController().signal, checkpoint: { path: checkpoint, resume: true } });
    expect(again.nothingLeft).toBe(true);
    expect(third.sent).toEqual([]);
  });

  it('paces by the speed factor', async () => {
    const { sink } = recordingSink();
    const window = Date.parse('2024-01-07T00:00:00Z') - Date.parse('2024-01-01T00:00:00Z');
    const started = Date.now();
    await runReplay({ plan, sink, batchRecords: 50, speed: window / 600, signal: new AbortController().signal });
    // Six days in about 0.6 s of wall time (the first entry anchors the clocks).
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });
});

describe('runReplay bounds event times', () => {
  it('rejects events more than a day past the newest input time (REPLAY_EVENT_TIME_AHEAD) without holding back their file', async () => {
    const at = (iso: string, n: number) => ({
      schemaVersion: 1,
      eventId: `${'0'.repeat(31)}${n}`,
      eventTime: iso,
      observedTime: iso,
      source: { kind: 'canonical', ref: 'test' },
      licenseServer: 'LS01',
      type: 'client.store',
      computer: { raw: `PC-${n}`, norm: `PC-${n}` },
      hwids: [{ raw: `0x0${n}`, norm: `0${n}` }],
    });
    const file = join(dir, 'clock.ndjson');
    const lines = [at('2024-02-01T00:00:00.000Z', 1), at('2999-01-01T00:00:00.000Z', 2), at('2024-02-03T00:00:00.000Z', 3), at('2024-02-01T06:00:00.000Z', 4)];
    await writeFile(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    // The file was written on 2024-02-01 at noon: events up to a day later are plausible.
    await utimes(file, new Date('2024-02-01T12:00:00Z'), new Date('2024-02-01T12:00:00Z'));
    const clockPlan = await planInputs(['clock.ndjson'], { cwd: dir });
    const { sink, sent } = recordingSink();
    await runReplay({ plan: clockPlan, sink, batchRecords: 10, signal: new AbortController().signal });
    expect(sent.map((s) => (s.kind === 'event' ? s.id.slice(-1) : s.kind === 'rejected' ? s.code : s.kind))).toEqual([
      '1',
      'REPLAY_EVENT_TIME_AHEAD',
      'REPLAY_EVENT_TIME_AHEAD',
      '4',
    ]);
  });
});
