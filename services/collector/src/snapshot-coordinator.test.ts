import { describe, expect, it } from 'vitest';
import { type Snapshot } from '@calwatch/ingest';
import { DEFAULT_MAX_EVENT_TIME_SKEW_MS, type LicenseFact } from '@calwatch/model';
import { buildLicenseFact } from './testing/export-fixtures';
import { COLLECTOR_ERRORS } from './errors';
import { screenEvents } from './event-screen';
import { createMemoryPublisher } from './testing/memory-publisher';
import { completeWithPrevious, createSnapshotCoordinator } from './snapshot-coordinator';

const license = buildLicenseFact;

function snapshot(takenAt: string, licenses: LicenseFact[], licenseServer = 'LS01'): Snapshot {
  return { licenseServer, takenAt, licenses, source: { kind: 'wmi-issued-licenses', ref: `test:${takenAt}` } };
}

function setup() {
  const publisher = createMemoryPublisher();
  const coordinator = createSnapshotCoordinator({ publisher, screen: (events, ref) => screenEvents(events, ref, '2024-06-20T00:00:00.000Z', DEFAULT_MAX_EVENT_TIME_SKEW_MS) });
  return { publisher, coordinator };
}

describe('snapshot coordinator', () => {
  it('serialises concurrent snapshots of one server: the second is diffed against the first', async () => {
    const { publisher, coordinator } = setup();
    const release = publisher.hold();
    const first = coordinator.applyIssued(snapshot('2024-06-01T00:00:00.000Z', [license(1)]), { partial: false });
    const second = coordinator.applyIssued(snapshot('2024-06-02T00:00:00.000Z', [license(1), license(2)]), { partial: false });
    release();
    expect(await first).toMatchObject({ stale: false, events: 1 });
    expect(await second).toMatchObject({ stale: false, events: 1 });
    expect(publisher.events.map((e) => `${e.type}:${'license' in e ? e.license.licenseId : ''}`)).toEqual(['license.issued:1', 'license.issued:2']);
  });

  it('writes the state only after the events were taken; a failed publish leaves it as it was', async () => {
    const { publisher, coordinator } = setup();
    await coordinator.applyIssued(snapshot('2024-06-01T00:00:00.000Z', [license(1)]), { partial: false });
    publisher.failNext(COLLECTOR_ERRORS.create('COLLECTOR_KAFKA_UNAVAILABLE', 'down'));
    const next = snapshot('2024-06-02T00:00:00.000Z', [license(2)]);
    await expect(coordinator.applyIssued(next, { partial: false })).rejects.toThrow('down');
    expect(coordinator.stateOf('LS01')!.issued!.takenAt).toBe('2024-06-01T00:00:00.000Z');
    expect(publisher.writes.length).toBe(1);
    // The re-sent snapshot emits the events it would have emitted.
    const outcome = await coordinator.applyIssued(next, { partial: false });
    expect(outcome).toMatchObject({ stale: false, events: 2 });
    // In event-time order: license 2's issue date is before license 1's return (the snapshot time).
    expect(publisher.events.slice(1).map((e) => e.type)).toEqual(['license.issued', 'license.returned']);
  });

  it('a state save that fails after the events went out re-emits the same event ids on re-send', async () => {
    const { publisher, coordinator } = setup();
    await coordinator.applyIssued(snapshot('2024-06-01T00:00:00.000Z', [license(1)]), { partial: false });
    const next = snapshot('2024-06-02T00:00:00.000Z', [license(1, { status: 'revoked' })]);
    // The events are acknowledged, then the state write fails (as in a crash between the two).
    const originalSave = publisher.saveState.bind(publisher);
    let failSave = true;
    publisher.saveState = async (write) => {
      if (failSave) {
        failSave = false;
        throw COLLECTOR_ERRORS.create('COLLECTOR_KAFKA_UNAVAILABLE', 'down while saving');
      }
      return originalSave(write);
    };
    await expect(coordinator.applyIssued(next, { partial: false })).rejects.toThrow('down while saving');
    await coordinator.applyIssued(next, { partial: false });
    const revoked = publisher.events.filter((e) => e.type === 'license.revoked');
    expect(revoked.length).toBe(2);
    expect(revoked[0]!.eventId).toBe(revoked[1]!.eventId);
  });

  it('keeps servers apart and restores state', async () => {
    const { publisher, coordinator } = setup();
    coordinator.restore({
      schemaVersion: 1,
      licenseServer: 'LS01',
      issued: { licenseServer: 'LS01', takenAt: '2024-06-01T00:00:00.000Z', licenses: { '1': license(1) } },
      keyPacksTakenAt: null,
    });
    expect(await coordinator.applyIssued(snapshot('2024-06-01T00:00:00.000Z', [license(1)]), { partial: false })).toMatchObject({ stale: true });
    expect(await coordinator.applyIssued(snapshot('2024-06-01T00:00:00.000Z', [license(1)], 'LS02'), { partial: false })).toMatchObject({ stale: false, events: 1 });
    expect(publisher.events.map((e) => e.licenseServer)).toEqual(['LS02']);
    expect(coordinator.stateOf('LS03')).toBeUndefined();
  });
});

describe('state writes', () => {
  const entries = (publisher: ReturnType<typeof setup>['publisher'], index = -1) =>
    publisher.writes.at(index)!.licenses.map((e) => `${e.licenseId}:${e.fact === null ? 'deleted' : e.fact.status}`);

  it('writes every license of a first snapshot, then only the entries that changed, and the head each time', async () => {
    const { publisher, coordinator } = setup();
    const first = Array.from({ length: 50 }, (_, i) => license(i + 1));
    await coordinator.applyIssued(snapshot('2024-06-01T00:00:00.000Z', first), { partial: false });
    expect(publisher.writes[0]!.licenses.length).toBe(50);
    expect(publisher.writes[0]!.head).toEqual({ schemaVersion: 2, licenseServer: 'LS01', issuedTakenAt: '2024-06-01T00:00:00.000Z', keyPacksTakenAt: null });

    // Facts equal but not the same objects (as a new upload parses them): one change only.
    const second = first.map((l) => (l.licenseId === 7 ? license(7, { status: 'revoked' }) : structuredClone(l)));
    await coordinator.applyIssued(snapshot('2024-06-02T00:00:00.000Z', second), { partial: false });
    expect(entries(publisher)).toEqual(['7:revoked']);
    expect(publisher.writes.at(-1)!.head.issuedTakenAt).toBe('2024-06-02T00:00:00.000Z');

    // A change that emits no event (another user) is stored too; a license gone is deleted.
    const third = second.filter((l) => l.licenseId !== 9).map((l) => (l.licenseId === 3 ? { ...l, user: 'CORP\\someone' } : l));
    await coordinator.applyIssued(snapshot('2024-06-03T00:00:00.000Z', third), { partial: false });
    expect(entries(publisher)).toEqual(['3:active', '9:deleted']);

    // A key-pack snapshot changes the head only.
    await coordinator.applyKeyPacks({ licenseServer: 'LS01', takenAt: '2024-06-03T00:00:00.000Z', keyPacks: [], source: { kind: 'wmi-keypacks', ref: 'kp' } });
    expect(publisher.writes.at(-1)).toMatchObject({ licenses: [], head: { issuedTakenAt: '2024-06-03T00:00:00.000Z', keyPacksTakenAt: '2024-06-03T00:00:00.000Z' }, dropLegacy: false });
  });

  it('writes again the entries of a failed write, even when the next snapshot goes back to the stored facts', async () => {
    const { publisher, coordinator } = setup();
    await coordinator.applyIssued(snapshot('2024-06-01T00:00:00.000Z', [license(1), license(2)]), { partial: false });
    const originalSave = publisher.saveState.bind(publisher);
    publisher.saveState = async () => {
      publisher.saveState = originalSave;
      throw COLLECTOR_ERRORS.create('COLLECTOR_KAFKA_UNAVAILABLE', 'down while saving');
    };
    // License 1's entry may have been written as revoked before the failure.
    await expect(coordinator.applyIssued(snapshot('2024-06-02T00:00:00.000Z', [license(1, { status: 'revoked' }), license(2)]), { partial: false })).rejects.toThrow();
    expect(coordinator.stateOf('LS01')!.issued!.takenAt).toBe('2024-06-01T00:00:00.000Z');
    await coordinator.applyIssued(snapshot('2024-06-03T00:00:00.000Z', [license(1), license(2)]), { partial: false });
    expect(entries(publisher)).toEqual(['1:active']);
  });

  it('stores every license of a state restored from an old whole-state record, then drops that record', async () => {
    const { publisher, coordinator } = setup();
    const old = { schemaVersion: 1 as const, licenseServer: 'LS01', issued: { licenseServer: 'LS01', takenAt: '2024-06-01T00:00:00.000Z', licenses: { '1': license(1), '2': license(2) } }, keyPacksTakenAt: null };
    coordinator.restore(old, { licenses: {}, legacyRecord: true });
    await coordinator.applyIssued(snapshot('2024-06-02T00:00:00.000Z', [license(1), license(2), license(3)]), { partial: false });
    // One event (license 3), not three: the old record was read.
    expect(publisher.events.map((e) => e.type)).toEqual(['license.issued']);
    expect(entries(publisher)).toEqual(['1:active', '2:active', '3:active']);
    expect(publisher.writes.at(-1)!.dropLegacy).toBe(true);
    await coordinator.applyIssued(snapshot('2024-06-03T00:00:00.000Z', [license(1), license(2), license(3)]), { partial: false });
    expect(publisher.writes.at(-1)).toMatchObject({ licenses: [], dropLegacy: false });
  });
});

describe('snapshot events in event-time order', () => {
  const at = (e: { eventTime: string; eventId: string }) => `${e.eventTime} ${e.eventId}`;

  it('publishes a snapshot\'s events by (event time, event id), not by licenseId', async () => {
    const { publisher, coordinator } = setup();
    // A first snapshot: issue dates span months and do not follow the licenseIds.
    const first = [
      license(1, { issueDate: '2024-05-20T00:00:00.000Z' }),
      license(2, { issueDate: '2024-02-01T00:00:00.000Z' }),
      license(3, { issueDate: '2024-04-02T08:00:00.000Z' }),
      // Same instant as 5: the event id decides.
      license(4, { issueDate: '2024-03-03T00:00:00.000Z' }),
      license(5, { issueDate: '2024-03-03T00:00:00.000Z' }),
    ];
    await coordinator.applyIssued(snapshot('2024-06-01T00:00:00.000Z', first), { partial: false });
    const published = publisher.events.map(at);
    expect(publisher.events.map((e) => ('license' in e ? e.license.licenseId : null))).not.toEqual([1, 2, 3, 4, 5]);
    expect(published).toEqual([...published].sort());
    expect(publisher.events.slice(0, 1).map((e) => ('license' in e ? e.license.licenseId : null))).toEqual([2]);
    const tie = publisher.events.filter((e) => e.eventTime === '2024-03-03T00:00:00.000Z').map((e) => e.eventId);
    expect(tie).toHaveLength(2);
    expect(tie[0]! < tie[1]!).toBe(true);

    // The next one: a renewal and a revocation at the snapshot time, a licenseId reused
    // for another device (returned at the snapshot time, issued at its own date).
    const next = [
      license(1, { issueDate: '2024-05-20T00:00:00.000Z', expirationDate: '2024-08-01T00:00:00.000Z' }),
      license(2, { issueDate: '2024-06-05T00:00:00.000Z', hwid: license(9).hwid, computer: license(9).computer }),
      license(3, { issueDate: '2024-04-02T08:00:00.000Z', status: 'revoked' }),
      license(6, { issueDate: '2024-06-03T00:00:00.000Z' }),
    ];
    await coordinator.applyIssued(snapshot('2024-06-10T00:00:00.000Z', next), { partial: false });
    const second = publisher.events.slice(first.length);
    expect(second.map((e) => e.type)).toContain('license.returned');
    expect(second.map(at)).toEqual(second.map(at).sort());
    expect(second[0]).toMatchObject({ type: 'license.issued', eventTime: '2024-06-03T00:00:00.000Z' });
  });

  it('orders key-pack events and leaves equal times to the event id, the same on every run', async () => {
    const runs: string[][] = [];
    for (let i = 0; i < 2; i++) {
      const { publisher, coordinator } = setup();
      await coordinator.applyIssued(snapshot('2024-06-01T00:00:00.000Z', [license(7, { issueDate: '2024-06-01T00:00:00.000Z' }), license(8, { issueDate: '2024-06-01T00:00:00.000Z' })]), {
        partial: false,
      });
      runs.push(publisher.events.map((e) => e.eventId));
    }
    expect(runs[0]).toEqual(runs[1]);
    expect(runs[0]).toEqual([...runs[0]!].sort());
  });
});

describe('completeWithPrevious', () => {
  it('carries licenses missing from a partial snapshot over from the last state', () => {
    const previous = { licenseServer: 'LS01', takenAt: '2024-06-01T00:00:00.000Z', licenses: { '1': license(1), '2': license(2) } };
    const next = completeWithPrevious(snapshot('2024-06-02T00:00:00.000Z', [license(1, { status: 'revoked' })]), previous);
    expect(next.licenses.map((l) => `${l.licenseId}:${l.status}`)).toEqual(['1:revoked', '2:active']);
    expect(completeWithPrevious(snapshot('2024-06-02T00:00:00.000Z', [license(1)]), null).licenses.length).toBe(1);
  });
});
