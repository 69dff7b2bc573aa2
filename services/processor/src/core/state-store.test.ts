import { describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '@calwatch/model';
import { simulateFleet } from '@calwatch/simulator';
import { BY_COMPUTER_FORM, ByComputerState } from './by-computer';
import { BY_HWID_FORM, ByHwidState } from './by-hwid';
import { HwidEntry } from './hwid-entry';
import { parseCoreConfig } from './config';
import { createPipeline } from './pipeline';
import { StateStore } from './state-store';
import { licenseRecordAt } from '../testing/rule-kit';

const DAY = 86_400_000;
const config = parseCoreConfig({});

function fullKeys<S, C>(store: StateStore<S, C>): string[] {
  const keys: string[] = [];
  store.forEachFull((key) => keys.push(key));
  return keys;
}

const record = licenseRecordAt(7, Date.UTC(2024, 0, 10), { hwid: 'aa01', computer: 'PC1' });
const quietHwid = (): ByHwidState => ({ v: 1, hwid: 'aa01', clock: record.updatedAt, licenses: [record], computerRaw: {}, tracks: {} });
const quietName = (): ByComputerState => ({
  v: 1,
  server: record.server,
  computer: 'PC1',
  computerRaw: 'PC1',
  clock: record.updatedAt,
  hwids: [{ hwid: 'aa01', firstSeen: record.issuedAt, lastAliveAt: record.aliveAt, licenses: [record] }],
  store: null,
  churnCoveredUpTo: null,
  tracks: {},
});

describe('quiet states', () => {
  it('keeps a quiet HWID and a quiet name as their license record, and gives back an equal state', () => {
    expect(BY_HWID_FORM.compact(quietHwid())).toBe(record);
    expect(BY_COMPUTER_FORM.compact(quietName())).toBe(record);
    expect(BY_HWID_FORM.expand(record)).toStrictEqual(quietHwid());
    expect(BY_COMPUTER_FORM.expand(record)).toStrictEqual(quietName());
    // Same fields in the same order: the changelog's JSON does not change either.
    expect(JSON.stringify(BY_COMPUTER_FORM.expand(record))).toBe(JSON.stringify(quietName()));
  });

  it('expands to every field of the state schemas (a field added there must be handled by the form)', () => {
    expect(Object.keys(BY_HWID_FORM.expand(record))).toEqual(Object.keys(ByHwidState.shape));
    const name = BY_COMPUTER_FORM.expand(record);
    // Optional fields are absent from a quiet name; compact keeps any state that has one (below).
    const optional = new Set(['dropped', 'beyondCap']);
    expect(Object.keys(name)).toEqual(Object.keys(ByComputerState.shape).filter((key) => !optional.has(key)));
    expect(Object.keys(name.hwids[0]!)).toEqual(Object.keys(HwidEntry.shape));
  });

  it('keeps in full any state that says more than its record', () => {
    const second = licenseRecordAt(8, Date.UTC(2024, 0, 12), { hwid: 'aa01', computer: 'PC2' });
    const hwidVariants: ByHwidState[] = [
      { ...quietHwid(), licenses: [record, second] },
      { ...quietHwid(), clock: record.updatedAt + 1 },
      { ...quietHwid(), computerRaw: { PC1: 'pc1.corp.example' } },
      { ...quietHwid(), tracks: { LS01: {} as ByHwidState['tracks'][string] } },
    ];
    for (const state of hwidVariants) expect(BY_HWID_FORM.compact(state)).toBe(state);

    const entry = quietName().hwids[0]!;
    const nameVariants: ByComputerState[] = [
      { ...quietName(), computerRaw: 'pc1.corp.example' },
      { ...quietName(), clock: record.updatedAt + 1 },
      { ...quietName(), store: { at: record.issuedAt, eventId: 'e1', hwids: ['aa01'] } },
      { ...quietName(), churnCoveredUpTo: record.issuedAt },
      { ...quietName(), beyondCap: { hwids: 3, lastAt: record.issuedAt } },
      { ...quietName(), dropped: [{ issuedAt: record.issuedAt - DAY, cal: { licenseId: 3, keyPackId: 1, expiresAt: record.issuedAt + 60 * DAY } }] },
      { ...quietName(), hwids: [{ ...entry, lastAliveAt: entry.lastAliveAt + DAY }] },
      { ...quietName(), hwids: [{ ...entry, licenses: [record, second] }] },
      { ...quietName(), hwids: [entry, { hwid: 'bb02', firstSeen: second.issuedAt, lastAliveAt: second.aliveAt, licenses: [second] }] },
      { ...quietName(), tracks: { 'hwid-churn': {} as ByComputerState['tracks'][string] } },
    ];
    for (const state of nameVariants) expect(BY_COMPUTER_FORM.compact(state)).toBe(state);
  });

  it('a store hands out expanded states and lists only full ones as full', () => {
    const store = new StateStore(BY_HWID_FORM, { a: quietHwid(), b: { ...quietHwid(), clock: record.updatedAt + 1 } });
    expect(store.size).toBe(2);
    expect(store.compactCount()).toBe(1);
    expect(store.get('a')).toStrictEqual(quietHwid());
    expect(fullKeys(store)).toEqual(['b']);
    expect(Object.fromEntries(store.entries())).toStrictEqual({ a: quietHwid(), b: { ...quietHwid(), clock: record.updatedAt + 1 } });
  });

  it('lets a retired key go only when its state is compact and the caller retires that record', () => {
    const store = new StateStore(BY_HWID_FORM, { a: quietHwid() });
    const asked: unknown[] = [];
    store.setUnlessRetired('a', quietHwid(), (compact) => asked.push(compact) > 1);
    expect(store.get('a')).toStrictEqual(quietHwid());
    store.setUnlessRetired('a', quietHwid(), (compact) => asked.push(compact) > 1);
    expect(store.get('a')).toBeUndefined();
    expect(asked).toEqual([record, record]);
    // A state that says more than its record is kept whatever the caller says, and never asked about.
    store.setUnlessRetired('b', { ...quietHwid(), clock: record.updatedAt + 1 }, () => true);
    expect(fullKeys(store)).toEqual(['b']);
    expect(asked).toHaveLength(2);
    const plain = new StateStore<ByHwidState>(undefined);
    plain.setUnlessRetired('c', quietHwid(), () => true);
    expect(plain.get('c')).toStrictEqual(quietHwid());
  });

  it('decodes a deferred state at its first use, once, and drops a key its loader cannot decode', () => {
    const loads: string[] = [];
    const loader = (key: string, source: unknown) => {
      loads.push(key);
      return source === 'bad' ? undefined : (JSON.parse(source as string) as ByHwidState);
    };
    const store = new StateStore(BY_HWID_FORM, {}, loader);
    store.defer('a', JSON.stringify(quietHwid()));
    store.defer('b', JSON.stringify({ ...quietHwid(), clock: record.updatedAt + 1 }));
    store.defer('c', 'bad');
    expect([store.size, loads]).toEqual([3, []]);
    expect(store.get('a')).toStrictEqual(quietHwid());
    expect(store.get('a')).toStrictEqual(quietHwid());
    expect(loads).toEqual(['a']);
    // Decoded, a quiet state is kept compact like any other.
    expect(store.compactCount()).toBe(1);
    expect(fullKeys(store)).toEqual(['b']);
    expect(loads).toEqual(['a', 'b', 'c']);
    expect(store.size).toBe(2);
    expect(store.get('c')).toBeUndefined();
    expect(() => new StateStore(BY_HWID_FORM).defer('a', '{}')).toThrow('loader');
  });

  it('changes nothing a simulated fleet produces, while most of its keys are kept compact', () => {
    // The default mix: cloned images, churning VDI names, rebuilds, duplicate names, corrupted stores.
    const simulation = simulateFleet({ devices: 1500, days: 120, seed: 11, snapshotIntervalMs: 7 * DAY });
    const events: CanonicalEvent[] = [...simulation.events()];
    const end = Date.parse(simulation.config.start) + 120 * DAY;
    const run = (compactQuietStates: boolean) => {
      const outputs: unknown[] = [];
      const pipeline = createPipeline(
        config,
        {
          onFinding: (f) => outputs.push(f),
          onEnriched: (e, key) => outputs.push([key, e]),
          onRevocation: (r, key) => outputs.push([key, r]),
        },
        undefined,
        { compactQuietStates },
      );
      events.forEach((event, i) => {
        pipeline.apply(event);
        // Part way through, a snapshot must read the same either way (restore and changelog writes read states).
        if (i === Math.floor(events.length / 2)) outputs.push(JSON.stringify(pipeline.snapshot()));
      });
      pipeline.advanceTo(end);
      pipeline.flush();
      return { pipeline, outputs, snapshot: JSON.stringify(pipeline.snapshot()) };
    };
    const full = run(false);
    const compact = run(true);
    expect(compact.outputs.length).toBeGreaterThan(events.length);
    expect(compact.outputs).toStrictEqual(full.outputs);
    expect(compact.snapshot).toBe(full.snapshot);
    expect(compact.pipeline.findings().filter((f) => f.state === 'open').length).toBeGreaterThan(5);

    // A state kept compact is built again at each read; one kept in full is the same object.
    const keys = Object.keys(compact.pipeline.snapshot().byHwid);
    const rebuilt = keys.filter((key) => compact.pipeline.stateOf('by-hwid', key) !== compact.pipeline.stateOf('by-hwid', key));
    expect(rebuilt.length).toBeGreaterThan(keys.length / 2);
    expect(keys.every((key) => full.pipeline.stateOf('by-hwid', key) === full.pipeline.stateOf('by-hwid', key))).toBe(true);

    // And a pipeline restored from the snapshot goes on exactly as the one that never stopped.
    const restored = createPipeline(config, {}, JSON.parse(compact.snapshot));
    expect(JSON.stringify(restored.snapshot())).toBe(compact.snapshot);
  }, 60_000);
});
