import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffSnapshot, parseFile, type ParsedItem, type SnapshotState } from '@calwatch/ingest';
import type { CanonicalEvent } from '@calwatch/model';
import { parseMix } from './config';
import { simulateFleet, type FleetSnapshot } from './simulate';
import { fileStamp, writeFleet } from './write-fleet';

// What the simulator writes must read back, through calwatch's own ingest, as exactly the
// facts it simulated: this is what lets replays and benchmarks stand in for a real server.
const simulation = simulateFleet({
  devices: 50,
  days: 12,
  seed: 21,
  pool: 40,
  mix: parseMix('cloned=2x8,vdi=2,deleter=1/3,rebuild=1,duplicate=1x2,corrupted=2/3'),
});
const snapshots: FleetSnapshot[] = [...simulation.snapshots()];
const events: CanonicalEvent[] = [...simulation.events()];
let root = '';

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'calwatch-sim-ingest-'));
  await writeFleet(simulation, {
    outDir: root,
    formats: ['ps51-csv', 'ps7-csv', 'ps7-cim-csv', 'json', 'ps7-json', 'winlogbeat', 'evtx-xml', 'canonical'],
  });
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function parse(path: string, observedTime: string): Promise<ParsedItem[]> {
  const items: ParsedItem[] = [];
  // Session-host event files do not name their license server: the collector is told.
  for await (const batch of parseFile(path, { observedTime, licenseServer: 'LS01' })) for (const item of batch) items.push(item);
  return items;
}

const rejectionsOf = (items: ParsedItem[]) => items.flatMap((i) => (i.kind === 'rejected' ? [i.rejection] : []));

describe('simulator output read by the ingest parsers', () => {
  it.each(['ps51-csv', 'ps7-csv', 'json', 'ps7-json'])('%s snapshots read back as the simulated tables', async (format) => {
    const ext = format.includes('csv') ? 'csv' : 'json';
    for (const snapshot of [snapshots[0]!, snapshots.at(-1)!]) {
      const stamp = fileStamp(snapshot.takenAt);
      const issued = await parse(join(root, format, `issued-licenses_${stamp}.${ext}`), snapshot.takenAt);
      expect(rejectionsOf(issued)).toEqual([]);
      expect(issued.map((i) => i.kind === 'issued-license' && i.licenseServer)).toEqual(snapshot.licenses.map(() => 'LS01'));
      expect(issued.map((i) => i.kind === 'issued-license' && i.license)).toEqual(snapshot.licenses);

      const packs = await parse(join(root, format, `keypacks_${stamp}.${ext}`), snapshot.takenAt);
      expect(rejectionsOf(packs)).toEqual([]);
      expect(packs.map((i) => i.kind === 'keypack' && i.keyPack)).toEqual(snapshot.keyPacks);
    }
  });

  it('refuses every row of a raw Get-CimInstance CSV, whose dates name no time zone, rather than misread it', async () => {
    const snapshot = snapshots[0]!;
    const items = await parse(join(root, 'ps7-cim-csv', `issued-licenses_${fileStamp(snapshot.takenAt)}.csv`), snapshot.takenAt);
    expect(items.filter((i) => i.kind === 'issued-license')).toEqual([]);
    expect(rejectionsOf(items)).toHaveLength(snapshot.licenses.length);
  });

  it.each([
    ['winlogbeat', 'licensing-events.ndjson'],
    ['evtx-xml', 'licensing-events.xml'],
  ])('%s events read back as the simulated service events', async (format, file) => {
    const expected = events.filter((e) => e.type === 'service.event');
    expect(new Set(expected.map((e) => e.type === 'service.event' && e.event.code))).toEqual(new Set([20, 21, 80, 81, 1028]));
    const items = await parse(join(root, format, file), snapshots.at(-1)!.takenAt);
    expect(rejectionsOf(items)).toEqual([]);
    const parsed = items.flatMap((i) => (i.kind === 'event' && i.event.type === 'service.event' ? [i.event] : []));
    const comparable = (e: CanonicalEvent) => ({ ...e, source: null, observedTime: null });
    expect(parsed.map(comparable)).toEqual(expected.map(comparable));
  });

  it('client store inventories read back with their HWIDs', async () => {
    const files = (await readdir(join(root, 'client-stores'))).sort();
    expect(files).toHaveLength(snapshots.length);
    const items = await parse(join(root, 'client-stores', files[0]!), snapshots[0]!.takenAt);
    expect(rejectionsOf(items)).toEqual([]);
    const stores = items.flatMap((i) => (i.kind === 'event' && i.event.type === 'client.store' ? [i.event] : []));
    const expected = events.filter((e) => e.type === 'client.store' && e.observedTime === snapshots[0]!.takenAt);
    expect(expected).toHaveLength(2);
    expect(stores.map((e) => ({ ...e, source: null }))).toEqual(expected.map((e) => ({ ...e, source: null })));
  });

  it('canonical NDJSON reads back event for event', async () => {
    const items = await parse(join(root, 'canonical', 'events.ndjson'), snapshots.at(-1)!.takenAt);
    expect(rejectionsOf(items)).toEqual([]);
    expect(items.map((i) => i.kind === 'event' && i.event)).toEqual(events);
  });

  it('diffing the snapshots derives the lifecycle events the simulator emitted, with the same ids', () => {
    const simulated = new Map(events.filter((e) => e.type.startsWith('license.')).map((e) => [e.eventId, e]));
    let state: SnapshotState | undefined;
    let derived = 0;
    for (const snapshot of snapshots) {
      const diff = diffSnapshot(state, { licenseServer: 'LS01', takenAt: snapshot.takenAt, licenses: snapshot.licenses, source: { kind: 'wmi-issued-licenses', ref: 'x' } });
      state = diff.state;
      for (const event of diff.events) {
        derived += 1;
        expect(simulated.get(event.eventId)?.type, `${event.type} ${event.eventId}`).toBe(event.type);
      }
    }
    // Daily snapshots miss only what happens twice between two of them (issued and upgraded the same day).
    expect(derived).toBeGreaterThan(simulated.size * 0.85);
  });
});
