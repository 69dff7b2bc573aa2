import { describe, expect, it } from 'vitest';
import { CanonicalEvent, DeadLetter, type IncomingRecord, type OutgoingRecord } from '@calwatch/shared';
import { parseCoreConfig } from '../core/index';
import { createTimelineKit } from '../core/test-kit';
import { META_KEY, TaskMeta, buildEventBufferKey } from './changelog';
import { createRuntimeMetrics } from './metrics';
import { buildEventOrder } from './order-key';
import { TaskEngine } from './task-engine';

const config = parseCoreConfig({});
const outputs = { byComputer: 't.by-computer', byServer: 't.by-server', findings: 't.findings', enriched: 't.enriched', deadLetter: 't.dead-letter' };

function createEngine() {
  const metrics = createRuntimeMetrics();
  const engine = new TaskEngine<CanonicalEvent>({
    stage: 'by-hwid',
    topic: 't.events',
    partition: 1,
    outputs,
    changelogTopic: 't.changelog',
    config,
    metrics,
    buffered: {
      name: 'event',
      decode: (json) => {
        const event = CanonicalEvent.safeParse(json);
        return event.success ? event.data : null;
      },
    },
  });
  return { engine, metrics };
}

function incoming(offset: number, key: string | null, value: string | null): IncomingRecord {
  return { topic: 't.events', partition: 1, offset: String(offset), key, value: value === null ? null : Buffer.from(value), headers: {}, timestamp: '0' };
}

/** A changelog write read back, as restore sees it. */
function readBack(records: readonly OutgoingRecord[]): IncomingRecord[] {
  return records.map((r, i) => incoming(i, r.key, r.value === null ? null : String(r.value)));
}

function metaOf(changelog: readonly OutgoingRecord[]): TaskMeta {
  const last = changelog.at(-1)!;
  expect(last.key).toBe(META_KEY);
  return TaskMeta.parse(JSON.parse(String(last.value)));
}

describe('TaskEngine', () => {
  it('skips records at or below the last offset applied and dead-letters one that is not JSON', () => {
    const { engine, metrics } = createEngine();
    expect(engine.admit(incoming(5, 'k', '{"a":1}'), 0)).toEqual({ ok: true, value: { a: 1 } });
    expect(engine.admit(incoming(5, 'k', '{"a":1}'), 0)).toBeNull();
    expect(engine.admit(incoming(4, 'k', '{"a":1}'), 0)).toBeNull();
    expect(engine.admit(incoming(6, 'k', '{nope'), 1_000)).toBeNull();
    expect(metrics).toMatchObject({ records: 4, replayedRecords: 2, deadLettered: 1 });
    expect(engine.offset).toBe('6');
    const { outputs: written } = engine.drain(() => ({ maxEventTime: null, releasedUpTo: null, cursor: null, sources: {} }));
    expect(written).toHaveLength(1);
    const letter = DeadLetter.parse(JSON.parse(String(written[0]!.value)));
    expect(letter).toMatchObject({ code: 'PROCESSOR_RECORD_NOT_JSON', at: new Date(1_000).toISOString(), location: { ref: 't.events[1]@6', record: 6 } });
  });

  it('dead-letters an input its stage throws on, keeping the key and the original', () => {
    const { engine, metrics } = createEngine();
    const broken = { type: 'license.issued' };
    engine.apply('ab01', broken, { at: 10, order: buildEventOrder('e1') }, 2_000, 'e1');
    expect(metrics).toMatchObject({ steps: 1, deadLettered: 1 });
    const { outputs: written, changelog } = engine.drain(() => ({ maxEventTime: null, releasedUpTo: null, cursor: null, sources: {} }));
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ topic: outputs.deadLetter, key: 'ab01' });
    const letter = DeadLetter.parse(JSON.parse(String(written[0]!.value)));
    expect(letter.code).toBe('PROCESSOR_STAGE_FAILED');
    expect(letter.reason).toMatch(/^by-hwid failed on e1: /);
    expect(letter.location.ref).toBe('t.events[1]');
    expect(JSON.parse(Buffer.from(letter.originalBase64, 'base64').toString())).toEqual(broken);
    // No state changed, but an output was written: the meta goes with it.
    expect(changelog.map((r) => r.key)).toEqual([META_KEY]);
  });

  it('sends a watermark to every partition of each target, and not again while it says the same', () => {
    const { engine, metrics } = createEngine();
    const targets = [
      { topic: outputs.byComputer, partitions: 2 },
      { topic: outputs.byServer, partitions: 3 },
    ];
    expect(engine.hasSentWatermark).toBe(false);
    engine.sendWatermark(100, false, targets);
    engine.sendWatermark(100, false, targets);
    engine.sendWatermark(100, true, targets);
    expect(engine.hasSentWatermark).toBe(true);
    expect(metrics.watermarksOut).toBe(10);
    const { outputs: written } = engine.drain(() => ({ maxEventTime: null, releasedUpTo: 100, cursor: null, sources: {} }));
    expect(written.map((r) => `${r.topic}/${r.partition}`)).toEqual([
      ...['t.by-computer/0', 't.by-computer/1', 't.by-server/0', 't.by-server/1', 't.by-server/2'],
      ...['t.by-computer/0', 't.by-computer/1', 't.by-server/0', 't.by-server/1', 't.by-server/2'],
    ]);
    expect(JSON.parse(String(written.at(-1)!.value))).toEqual({ type: 'watermark', source: 't.events:1', at: 100, idle: true });
  });

  it('writes the meta only when something changed, and reads states, buffer and meta back', () => {
    const kit = createTimelineKit();
    const event = kit.issue(1, { hwid: 'ab01', computer: 'PC-1', day: 0 });
    const held = kit.issue(2, { hwid: 'cd02', computer: 'PC-2', day: 1 });
    const { engine } = createEngine();
    const progress = () => ({ maxEventTime: 7, releasedUpTo: 5, cursor: null, sources: {} });
    expect(engine.drain(progress).changelog).toEqual([]);

    engine.admit(incoming(3, 'ab01', JSON.stringify(event)), 0);
    engine.apply('ab01', event, { at: Date.parse(event.eventTime), order: buildEventOrder(event.eventId) }, 0, event.eventId);
    engine.bufferLog.add(buildEventBufferKey(held.eventId), held);
    const { changelog } = engine.drain(progress);
    expect(changelog.map((r) => r.key)).toEqual(['ab01', buildEventBufferKey(held.eventId), META_KEY]);
    expect(metaOf(changelog)).toMatchObject({ lastOffset: '3', maxEventTime: 7, releasedUpTo: 5 });
    expect(engine.drain(progress).changelog).toEqual([]);

    const { engine: restored } = createEngine();
    restored.restore(readBack(changelog));
    const { records, meta, buffered, problems } = restored.finishRestore();
    expect(records).toBe(3);
    expect(problems).toEqual([]);
    expect(meta).toMatchObject({ lastOffset: '3', maxEventTime: 7 });
    expect([...buffered]).toEqual([held]);
    expect(restored.store.size).toBe(1);
    expect(restored.offset).toBe('3');
    // The restored buffer entry is in the changelog already: releasing it writes a tombstone.
    restored.bufferLog.remove(buildEventBufferKey(held.eventId));
    const after = restored.drain(progress).changelog;
    expect(after[0]).toEqual({ topic: 't.changelog', partition: 1, key: buildEventBufferKey(held.eventId), value: null });
  });

  it('reports changelog records it cannot read and carries on without them', () => {
    const { engine } = createEngine();
    const gone = createTimelineKit().issue(1, { hwid: 'ab01', computer: 'PC-1', day: 0 });
    const bufferKey = buildEventBufferKey(gone.eventId);
    engine.restore([
      incoming(0, META_KEY, '{"v":2}'),
      incoming(1, buildEventBufferKey('e-bad'), '{"type":"license.issued"}'),
      incoming(2, bufferKey, JSON.stringify(gone)),
      incoming(3, 'ab01', 'not json'),
      incoming(4, null, 'ignored'),
    ]);
    // A tombstone later in the log removes what was read for its key.
    engine.restore([incoming(5, bufferKey, null)]);
    const { records, meta, buffered, problems } = engine.finishRestore();
    expect(records).toBe(6);
    expect(meta).toBeNull();
    expect([...buffered]).toEqual([]);
    expect(problems).toEqual([
      { code: 'PROCESSOR_CHANGELOG_RECORD_INVALID', key: META_KEY, message: 'task meta failed its schema' },
      { code: 'PROCESSOR_CHANGELOG_RECORD_INVALID', key: buildEventBufferKey('e-bad'), message: 'buffered event failed its schema' },
      { code: 'PROCESSOR_CHANGELOG_RECORD_INVALID', key: 'ab01', message: 'by-hwid state is not JSON' },
    ]);
    expect(engine.offset).toBeNull();
  });
});
