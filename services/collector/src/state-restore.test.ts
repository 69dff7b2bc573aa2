import { describe, expect, it } from 'vitest';
import { type IncomingRecord, type OutgoingRecord } from '@calwatch/kafka';
import { DEFAULT_MAX_EVENT_TIME_SKEW_MS, buildTopicNames, type LicenseFact } from '@calwatch/model';
import { createSilentLogger } from '@calwatch/runtime';
import { buildLicenseFact } from './testing/export-fixtures';
import { buildStateRecords } from './kafka-records';
import { createMemoryPublisher } from './testing/memory-publisher';
import { emptyServerState, type CollectorServerState } from './server-state';
import { createSnapshotCoordinator } from './snapshot-coordinator';
import { buildHeadKey, buildLicenseKey, createStateAssembler } from './state-entries';
import { applyStateRecords } from './state-restore';
import { screenEvents } from './event-screen';

const topics = buildTopicNames('t.');

const license = buildLicenseFact;

let offset = 0;
function record(key: string | null, value: unknown): IncomingRecord {
  return {
    topic: 't',
    partition: 0,
    offset: String(offset++),
    key,
    value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: {},
    timestamp: '0',
  };
}

/** What the topic gets from the coordinator's writes, as records read back. */
function toIncoming(records: readonly OutgoingRecord[]): IncomingRecord[] {
  return records.map((r) => record(r.key, r.value === null ? null : String(r.value)));
}

function coordinatorWithMemory() {
  const publisher = createMemoryPublisher();
  const coordinator = createSnapshotCoordinator({ publisher, screen: (e, ref) => screenEvents(e, ref, '2024-06-20T00:00:00.000Z', DEFAULT_MAX_EVENT_TIME_SKEW_MS) });
  return { publisher, coordinator };
}

function written(publisher: ReturnType<typeof createMemoryPublisher>): IncomingRecord[] {
  return publisher.writes.flatMap((write) => {
    const records = buildStateRecords(topics, write);
    return toIncoming([...records.entries, records.head, ...(records.legacyTombstone === undefined ? [] : [records.legacyTombstone])]);
  });
}

function restore(records: readonly IncomingRecord[]) {
  const assembler = createStateAssembler();
  const invalid = applyStateRecords(records, assembler, createSilentLogger());
  return { invalid, servers: assembler.finish(), legacy: assembler.legacyServers };
}

describe('snapshot state restore', () => {
  it('round-trips the coordinator writes: head plus entries, tombstones delete', async () => {
    const { publisher, coordinator } = coordinatorWithMemory();
    const snapshot = (takenAt: string, licenses: LicenseFact[]) => ({ licenseServer: 'LS01', takenAt, licenses, source: { kind: 'wmi-issued-licenses' as const, ref: takenAt } });
    await coordinator.applyIssued(snapshot('2024-06-01T00:00:00.000Z', [license(1), license(2), license(3)]), { partial: false });
    await coordinator.applyIssued(snapshot('2024-06-02T00:00:00.000Z', [license(1, { status: 'revoked' }), license(3), license(4)]), { partial: false });
    await coordinator.applyKeyPacks({ licenseServer: 'LS01', takenAt: '2024-06-02T00:00:00.000Z', keyPacks: [], source: { kind: 'wmi-keypacks', ref: 'kp' } });
    await coordinator.applyKeyPacks({ licenseServer: 'LS02', takenAt: '2024-06-02T00:00:00.000Z', keyPacks: [], source: { kind: 'wmi-keypacks', ref: 'kp' } });

    const records = written(publisher);
    // The second snapshot wrote licenses 1 (changed), 2 (tombstone) and 4 (new) only.
    expect(records.filter((r) => r.key === buildLicenseKey('LS01', '2')).map((r) => r.value)).toEqual([expect.anything(), null]);
    const { invalid, servers } = restore(records);
    expect(invalid).toBe(0);
    const byServer = new Map(servers.map((s) => [s.state.licenseServer, s]));
    expect(byServer.get('LS01')!.state).toEqual(coordinator.stateOf('LS01'));
    expect(Object.keys(byServer.get('LS01')!.state.issued!.licenses)).toEqual(['1', '3', '4']);
    expect(byServer.get('LS01')!.stored).toEqual({ licenses: coordinator.stateOf('LS01')!.issued!.licenses, legacyRecord: false });
    expect(byServer.get('LS02')!.state).toEqual({ ...emptyServerState('LS02'), keyPacksTakenAt: '2024-06-02T00:00:00.000Z' });

    // Restored into a new coordinator, the next snapshot diffs as on the original one.
    const again = coordinatorWithMemory();
    for (const { state, stored } of servers) again.coordinator.restore(state, stored);
    const next = snapshot('2024-06-03T00:00:00.000Z', [license(3), license(4, { status: 'revoked' })]);
    await coordinator.applyIssued(next, { partial: false });
    await again.coordinator.applyIssued(next, { partial: false });
    expect(again.publisher.events).toEqual(publisher.events.slice(-2));
    expect(again.publisher.writes).toEqual(publisher.writes.slice(-1));
  });

  it('converges after a crash between the license entries and the head: same state, same event ids', async () => {
    const snapshot = (takenAt: string, licenses: LicenseFact[]) => ({ licenseServer: 'LS01', takenAt, licenses, source: { kind: 'wmi-issued-licenses' as const, ref: takenAt } });
    const s1 = snapshot('2024-06-01T00:00:00.000Z', [1, 2, 3, 4, 5, 6].map((id) => license(id, { status: id === 5 ? 'temporary' : 'active' })));
    const s2 = snapshot('2024-06-02T00:00:00.000Z', [
      license(1, { status: 'revoked' }),
      license(2, { expirationDate: '2024-09-01T00:00:00.000Z' }),
      license(4, { user: 'CORP\\other' }),
      license(5),
      license(6),
      license(7),
    ]);
    const uninterrupted = coordinatorWithMemory();
    await uninterrupted.coordinator.applyIssued(s1, { partial: false });
    const firstEvents = uninterrupted.publisher.events.length;
    await uninterrupted.coordinator.applyIssued(s2, { partial: false });
    const expectedEvents = uninterrupted.publisher.events.slice(firstEvents);
    const expectedState = restore(written(uninterrupted.publisher)).servers;

    const [write1, write2] = uninterrupted.publisher.writes.map((write) => buildStateRecords(topics, write));
    expect(write2!.entries.length).toBe(6);
    for (let cut = 0; cut <= write2!.entries.length; cut++) {
      // The events of s2 and `cut` of its entries made it; the head did not.
      const topic = toIncoming([...write1!.entries, write1!.head, ...write2!.entries.slice(0, cut)]);
      const restarted = coordinatorWithMemory();
      for (const { state, stored } of restore(topic).servers) restarted.coordinator.restore(state, stored);
      expect(await restarted.coordinator.applyIssued(s2, { partial: false })).toMatchObject({ stale: false });
      // What the re-send emits was emitted before, with the same ids; nothing new.
      for (const event of restarted.publisher.events) expect(expectedEvents).toContainEqual(event);
      expect(restore([...topic, ...written(restarted.publisher)]).servers).toEqual(expectedState);
    }
  });

  it('converts an old whole-state record, and lets a head written after it win', () => {
    const old: CollectorServerState = {
      schemaVersion: 1,
      licenseServer: 'LS01',
      issued: { licenseServer: 'LS01', takenAt: '2024-06-01T00:00:00.000Z', licenses: { '1': license(1), '2': license(2) } },
      keyPacksTakenAt: '2024-05-01T00:00:00.000Z',
    };
    const converted = restore([record('LS01', old)]);
    expect(converted.legacy).toBe(1);
    expect(converted.servers).toEqual([{ state: old, stored: { licenses: {}, legacyRecord: true } }]);

    // A head and entries written after the old record (its tombstone not yet written).
    const head = { schemaVersion: 2, licenseServer: 'LS01', issuedTakenAt: '2024-06-02T00:00:00.000Z', keyPacksTakenAt: null };
    const upgraded = restore([record('LS01', old), record(buildLicenseKey('LS01', '2'), license(2)), record(buildHeadKey('LS01'), head)]);
    expect(upgraded.legacy).toBe(0);
    expect(upgraded.servers[0]!.state.issued).toEqual({ licenseServer: 'LS01', takenAt: '2024-06-02T00:00:00.000Z', licenses: { '2': license(2) } });
    expect(upgraded.servers[0]!.stored.legacyRecord).toBe(true);
    // Its tombstone: the old record is gone.
    const done = restore([record('LS01', old), record(buildHeadKey('LS01'), head), record('LS01', null)]);
    expect(done.servers[0]!.stored.legacyRecord).toBe(false);
  });

  it('keeps entries without a head as stored (the next snapshot is a first one), forgets a server with nothing left', () => {
    const { servers } = restore([
      record(buildLicenseKey('LS01', '5'), license(5)),
      record(buildLicenseKey('LS02', '6'), license(6)),
      record(buildHeadKey('LS02'), { schemaVersion: 2, licenseServer: 'LS02', issuedTakenAt: '2024-06-02T00:00:00.000Z', keyPacksTakenAt: null }),
      record(buildHeadKey('LS02'), null),
      record(buildLicenseKey('LS02', '6'), null),
    ]);
    expect(servers).toEqual([{ state: emptyServerState('LS01'), stored: { licenses: { '5': license(5) }, legacyRecord: false } }]);
  });

  it('skips what does not decode and keeps the last valid value of that key', () => {
    const head = (takenAt: string) => ({ schemaVersion: 2, licenseServer: 'LS01', issuedTakenAt: takenAt, keyPacksTakenAt: null });
    const { invalid, servers } = restore([
      record(buildHeadKey('LS01'), head('2024-06-01T00:00:00.000Z')),
      record(buildLicenseKey('LS01', '1'), license(1)),
      record(buildHeadKey('LS01'), '{not json'),
      record(buildLicenseKey('LS01', '1'), license(2)),
      record(buildLicenseKey('LS01', '3'), { licenseId: 3 }),
      record(buildHeadKey('LS01'), { ...head('2024-06-02T00:00:00.000Z'), licenseServer: 'OTHER' }),
      record('LS04', { schemaVersion: 7 }),
      record('LS05', emptyServerState('OTHER')),
      record(null, emptyServerState('LS06')),
    ]);
    expect(invalid).toBe(6);
    expect(servers.map((s) => s.state)).toEqual([
      { ...emptyServerState('LS01'), issued: { licenseServer: 'LS01', takenAt: '2024-06-01T00:00:00.000Z', licenses: { '1': license(1) } } },
    ]);
  });
});
