import { describe, expect, it } from 'vitest';
import type { IncomingRecord, OutgoingRecord } from '@calwatch/kafka';
import type { CanonicalEvent } from '@calwatch/model';
import { type StageName, createPipeline, parseCoreConfig } from '../core/index';
import { byEventTime, createTimelineKit } from '../testing/timeline-kit';
import * as scenarios from '../testing/scenarios';
import { StateEntries } from './state-entries';
import type { TaskProblem } from './task';

const config = parseCoreConfig({});

/** Runs events through the pipeline, writing the keys each event changed as a task's drain would. */
function runPipeline(events: readonly CanonicalEvent[], writer: StateEntries, log: OutgoingRecord[], coreConfig = config, settle = true) {
  const changed: Array<[StageName, string]> = [];
  const seen = new Set<string>();
  const pipeline = createPipeline(coreConfig, {
    onStateChange: (stage, key) => {
      changed.push([stage, key]);
      seen.add(JSON.stringify([stage, key]));
    },
  });
  const write = () => {
    for (const [stage, key] of changed.splice(0)) writer.write(stage, key, pipeline.stateOf(stage, key), pipeline.dueAtOf(stage, key), log);
  };
  for (const event of byEventTime(events)) {
    pipeline.apply(event);
    write();
  }
  if (settle) pipeline.advanceTo(Math.max(...events.map((e) => Date.parse(e.eventTime))) + 200 * 86_400_000);
  write();
  return { pipeline, keys: [...seen].map((k) => JSON.parse(k) as [StageName, string]) };
}

function asIncoming(records: readonly OutgoingRecord[]): IncomingRecord[] {
  return records.map((r, i) => ({
    topic: r.topic,
    partition: r.partition ?? 0,
    offset: String(i),
    key: r.key,
    value: r.value === null ? null : Buffer.from(r.value),
    headers: { ...(r.headers ?? {}) },
    timestamp: '0',
  }));
}

/** What a task's restore hands StateEntries: each record's key and value bytes. */
function restoreAll(reader: StateEntries, records: readonly OutgoingRecord[], problems: TaskProblem[]): void {
  for (const record of asIncoming(records)) reader.restore(record.key!, record.value, problems);
}

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

/** A cloned image: one HWID handed back and forth between names, `reissues` CALs in all. */
function pingPong(reissues: number): CanonicalEvent[] {
  const kit = createTimelineKit({ server: 'LS-BIG' });
  const names = ['KIOSK-1', 'KIOSK-2', 'KIOSK-3', 'KIOSK-4'];
  return Array.from({ length: reissues }, (_, i) => kit.issue(i + 1, { hwid: 'c10e', computer: names[i % names.length]!, day: (i * 50) / reissues }));
}

/** A desktop that gets a new HWID at every boot, one boot a day: `boots` HWIDs and CALs. */
function churn(boots: number, computer: string): CanonicalEvent[] {
  const kit = createTimelineKit({ server: 'LS-VDI2' });
  return Array.from({ length: boots }, (_, i) => kit.issue(500 + i + (computer.length << 10), { hwid: `d${computer.length}${i}`, computer, day: i }));
}

describe('state entries in the changelog', () => {
  it('put every stage state back together exactly, small collections inline or split, tombstones included', () => {
    const events = [
      ...scenarios.clonedImage().events,
      ...scenarios.vdiChurn().events,
      ...scenarios.exhaustedPool().events,
      ...scenarios.cappedRevocations().events,
      ...scenarios.corruptedStore().events,
      ...scenarios.issuanceSpike().events,
      // Grows past what a head holds inline (split into parts), then expires back to nothing.
      ...pingPong(40),
      // Names past their HWID cap (6 here): CALs of dropped HWIDs kept inline and in parts.
      ...churn(8, 'VDI-8'),
      ...churn(20, 'VDI-TWENTY'),
    ];
    const writer = new StateEntries('t', 0);
    const log: OutgoingRecord[] = [];
    const { pipeline, keys } = runPipeline(events, writer, log, parseCoreConfig({ state: { maxHwidsPerComputer: 6 } }));
    const problems: TaskProblem[] = [];
    const reader = new StateEntries('t', 0);
    restoreAll(reader, log, problems);
    const restored = reader.finishRestore(problems);
    expect(problems).toEqual([]);
    const expected = new Map<string, unknown>();
    for (const [stage, key] of keys) {
      const state = pipeline.stateOf(stage, key);
      if (state !== undefined) expected.set(`${stage}|${key}`, { state, dueAt: pipeline.dueAtOf(stage, key) });
    }
    // Each state decoded from its entries at first use, its timer's due time from the head's header.
    const loaded = new Map(restored.map((r) => [`${r.stage}|${r.key}`, { state: reader.load(r.stage, r.key, r.source, problems), dueAt: r.dueAt }]));
    expect(problems).toEqual([]);
    expect(loaded).toEqual(expected);
    // Two hundred days on, expired licenses and settled findings have left tombstones behind.
    expect(log.filter((r) => r.value === null).length).toBeGreaterThan(10);
    expect(reader.size).toBe(writer.size);
  });

  it('keep the CALs a name dropped at its HWID cap as entries of their own, put back in chain order', () => {
    const writer = new StateEntries('t', 0);
    const log: OutgoingRecord[] = [];
    const capped = parseCoreConfig({ state: { maxHwidsPerComputer: 6 } });
    const { pipeline } = runPipeline([...churn(8, 'VDI-8'), ...churn(20, 'VDI-TWENTY')], writer, log, capped, false);
    const names = ['LS-VDI2|VDI-8', 'LS-VDI2|VDI-TWENTY'];
    const dropped = names.map((key) => (pipeline.stateOf('by-computer', key) as { dropped?: unknown[] }).dropped?.length);
    // (The twentieth boot still waits in the lateness buffer.)
    expect(dropped).toEqual([2, 13]);
    // Two inline in the head; thirteen as parts, one per CAL.
    const parts = new Set(log.map((r) => JSON.parse(r.key!) as unknown[]).filter((k) => k[2] === 'd').map((k) => k[1]));
    expect([...parts]).toEqual(['LS-VDI2|VDI-TWENTY']);
    const reader = new StateEntries('t', 0);
    const problems: TaskProblem[] = [];
    restoreAll(reader, log, problems);
    const restored = reader.finishRestore(problems);
    for (const key of names) {
      const r = restored.find((s) => s.stage === 'by-computer' && s.key === key)!;
      expect(reader.load(r.stage, r.key, r.source, problems)).toEqual(pipeline.stateOf('by-computer', key));
    }
    expect(problems).toEqual([]);
  });

  it('size each store as its compacted changelog: entries and key plus value bytes, on write and after restore', () => {
    // Names outside ASCII: bytes, not characters, are what the changelog holds.
    const umlauts = createTimelineKit({ server: 'LS-MÜNCHEN' });
    const events = [
      ...scenarios.clonedImage().events,
      ...scenarios.vdiChurn().events,
      ...scenarios.exhaustedPool().events,
      ...pingPong(40),
      ...['KASSE-ÄRGER', 'KASSE-ÖSTERREICH', 'KASSE-ÜBER'].map((computer, i) => umlauts.issue(i + 1, { hwid: 'ae01', computer, day: i })),
    ];
    const writer = new StateEntries('t', 0);
    const log: OutgoingRecord[] = [];
    runPipeline(events, writer, log);
    // The oracle: what log compaction keeps (last record per key, a tombstone removes the key).
    const compacted = new Map<string, string>();
    for (const r of log) {
      if (r.value === null) compacted.delete(r.key!);
      else compacted.set(r.key!, r.value as string);
    }
    const codeOf: Record<string, StageName> = { h: 'by-hwid', c: 'by-computer', s: 'by-server' };
    const expected = new Map<StageName, { entries: number; bytes: number }>(Object.values(codeOf).map((stage) => [stage, { entries: 0, bytes: 0 }]));
    for (const [key, value] of compacted) {
      const total = expected.get(codeOf[(JSON.parse(key) as string[])[0]!]!)!;
      total.entries++;
      total.bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
    }
    const asMap = (writerOrReader: StateEntries) => new Map(writerOrReader.sizes().map((s) => [s.store, { entries: s.entries, bytes: s.bytes }]));
    expect(asMap(writer)).toEqual(expected);
    expect([...expected.values()].every((t) => t.entries > 0)).toBe(true);

    const reader = new StateEntries('t', 0);
    const problems: TaskProblem[] = [];
    restoreAll(reader, log, problems);
    reader.finishRestore(problems);
    expect(asMap(reader)).toEqual(expected);
  });

  it('write only the entries that changed, each no larger however many reissues a cloned HWID has', () => {
    const largest = (reissues: number) => {
      const events = pingPong(reissues);
      const writer = new StateEntries('t', 0);
      const changed: Array<[StageName, string]> = [];
      const pipeline = createPipeline(config, { onStateChange: (stage, key) => changed.push([stage, key]) });
      let largestRecord = 0;
      let lastWrite = 0;
      for (const event of events) {
        pipeline.apply(event);
        const records: OutgoingRecord[] = [];
        for (const [stage, key] of changed.splice(0)) writer.write(stage, key, pipeline.stateOf(stage, key), pipeline.dueAtOf(stage, key), records);
        for (const r of records) largestRecord = Math.max(largestRecord, Buffer.byteLength(r.value ?? '') + (r.key?.length ?? 0));
        lastWrite = records.length;
      }
      return { largestRecord, lastWrite, entries: writer.size };
    };
    const small = largest(40);
    const big = largest(400);
    expect(big.entries).toBeGreaterThan(small.entries * 5);
    // Licenses are entries of their own; what grows with reissues is the finding's lists.
    expect(big.lastWrite).toBeLessThan(40);
    expect(big.largestRecord).toBeLessThan(256 * 1024);
  });

  it('report an entry it cannot read and leave that state out: a bad key at restore, a bad value at first use', () => {
    const reader = new StateEntries('t', 0);
    const problems: TaskProblem[] = [];
    reader.restore('not json', bytes('[null,{}]'), problems);
    reader.restore(JSON.stringify(['h', 'ab01']), bytes('[null,{"v":1}]'), problems);
    reader.restore(JSON.stringify(['h', 'ab02']), bytes('[null,{"v":]'), problems);
    reader.restore(JSON.stringify(['x', 'ab01']), bytes('[null,{}]'), problems);
    const deferred = reader.finishRestore(problems);
    expect(problems.map((p) => p.code)).toEqual(['PROCESSOR_CHANGELOG_RECORD_INVALID', 'PROCESSOR_CHANGELOG_RECORD_INVALID']);
    expect(deferred.map((d) => d.key)).toEqual(['ab01', 'ab02']);
    expect(deferred.map((d) => reader.load('by-hwid', d.key, d.source, problems))).toEqual([undefined, undefined]);
    expect(problems.slice(2).map((p) => [p.code, p.key])).toEqual([
      ['PROCESSOR_STATE_INVALID', 'ab01'],
      ['PROCESSOR_CHANGELOG_RECORD_INVALID', 'ab02'],
    ]);
    // States left out hold nothing.
    expect(reader.sizes().every((size) => size.entries === 0 && size.bytes === 0)).toBe(true);
  });

  it('read entry keys exactly as JSON does, names with quotes, backslashes, tabs and emoji included', () => {
    // Names that JSON.stringify escapes (or keeps as they are) in the entry keys of both stages.
    const names = ['PC "QUOTED"', 'PC\\BACKSLASH', 'PC\tTAB', 'PC-😀', 'PC-MÜNCHEN', 'PC,"COMMA'];
    const kit = createTimelineKit({ server: 'LS-ODD' });
    const events = names.flatMap((computer, n) => Array.from({ length: 6 }, (_, i) => kit.issue(700 + n * 10 + i, { hwid: `e${n}${i}`, computer, day: i })));
    const writer = new StateEntries('t', 0);
    const log: OutgoingRecord[] = [];
    const { pipeline, keys } = runPipeline(events, writer, log, config, false);
    const problems: TaskProblem[] = [];
    const reader = new StateEntries('t', 0);
    restoreAll(reader, log, problems);
    const restored = reader.finishRestore(problems);
    expect(problems).toEqual([]);
    const loaded = new Map(restored.map((r) => [`${r.stage}|${r.key}`, reader.load(r.stage, r.key, r.source, problems)]));
    expect(problems).toEqual([]);
    expect(loaded).toEqual(new Map(keys.map(([stage, key]) => [`${stage}|${key}`, pipeline.stateOf(stage, key)])));
    expect([...loaded.keys()].filter((k) => k.startsWith('by-computer|'))).toHaveLength(names.length);
    expect(reader.size).toBe(writer.size);

    // Keys in another spelling of the same JSON are read as JSON reads them; what JSON refuses is refused.
    const odd = new StateEntries('t', 0);
    const oddProblems: TaskProblem[] = [];
    odd.restore('[ "h", "ab05" ]', bytes('[null,{"v":1}]'), oddProblems);
    odd.restore('["h","ab\\u0030"]', bytes('[null,{"v":1}]'), oddProblems);
    odd.restore('["h","ab07",]', bytes('[null,{"v":1}]'), oddProblems);
    odd.restore('["h","ab08"', bytes('[null,{"v":1}]'), oddProblems);
    odd.restore('["h","ab09","l"]', bytes('[null,{"v":1}]'), oddProblems);
    odd.restore('["h","ab\t10"]', bytes('[null,{"v":1}]'), oddProblems);
    // A tombstone of a key no state can have removes nothing, and is no problem.
    odd.restore('not json', null, oddProblems);
    odd.restore('["h",1]', null, oddProblems);
    expect(odd.finishRestore(oddProblems).map((d) => d.key)).toEqual(['ab05', 'ab0']);
    expect(oddProblems.map((p) => [p.key, p.message])).toEqual([
      ['["h","ab07",]', 'state entry key is not JSON'],
      ['["h","ab08"', 'state entry key is not JSON'],
      ['["h","ab09","l"]', 'state entry key has an unknown shape'],
      ['["h","ab\t10"]', 'state entry key is not JSON'],
    ]);
  });

  it('read the due time of a state from its head record, and leave it unknown for a head without one', () => {
    const reader = new StateEntries('t', 0);
    const problems: TaskProblem[] = [];
    reader.restore(JSON.stringify(['h', 'ab01']), bytes('[1700000000000,{"v":1}]'), problems);
    reader.restore(JSON.stringify(['h', 'ab02']), bytes('[null,{"v":1}]'), problems);
    reader.restore(JSON.stringify(['h', 'ab03']), bytes('{"v":1}'), problems);
    reader.restore(JSON.stringify(['h', 'ab04']), bytes('["soon",{"v":1}]'), problems);
    const restored = reader.finishRestore(problems);
    expect(restored.map((d) => [d.key, d.dueAt])).toEqual([
      ['ab01', 1_700_000_000_000],
      ['ab02', null],
      ['ab03', undefined],
      ['ab04', undefined],
    ]);
    // Kept as the record's bytes until the state's first use, when the head is read from them.
    expect(restored.map((d) => Buffer.isBuffer(d.source) && d.source.toString('utf8'))).toEqual([
      '[1700000000000,{"v":1}]',
      '[null,{"v":1}]',
      '{"v":1}',
      '["soon",{"v":1}]',
    ]);
  });
});
