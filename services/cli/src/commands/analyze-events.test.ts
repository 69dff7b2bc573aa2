import { describe, expect, it } from 'vitest';
import { LicenseTable, diffTables } from '@calwatch/ingest';
import { type CanonicalEvent, buildEventId } from '@calwatch/model';
import { EventLog } from './analyze-events';

const source = { kind: 'canonical' as const, ref: 'test' };

function inventory(id: string, eventTime: string, note = ''): CanonicalEvent {
  return {
    schemaVersion: 1,
    eventId: buildEventId('test', id),
    eventTime,
    observedTime: eventTime,
    source: { ...source, ref: `test${note}` },
    licenseServer: 'LS01',
    type: 'keypack.inventory',
    keyPack: {
      keyPackId: 3,
      keyPackType: 2,
      productVersion: 'Windows Server 2019',
      productVersionId: 6,
      description: '',
      typeAndModel: 'RDS Per Device CAL',
      totalLicenses: 10,
      availableLicenses: 5,
      issuedLicenses: 5,
      expirationDate: null,
    },
  };
}

function collect(log: EventLog): CanonicalEvent[] {
  const out: CanonicalEvent[] = [];
  log.forEach((timeMs, build) => {
    const event = build();
    expect(timeMs).toBe(Date.parse(event.eventTime));
    out.push(event);
  });
  return out;
}

describe('EventLog', () => {
  it('hands events out by (event time, eventId), each eventId once, the first added winning', () => {
    const a = inventory('a', '2024-06-02T00:00:00.000Z');
    const b = inventory('b', '2024-06-01T00:00:00.000Z');
    const c = inventory('c', '2024-06-02T00:00:00.000Z');
    const log = new EventLog();
    log.add([a, b]);
    log.add([]);
    log.add([inventory('a', '2024-06-02T00:00:00.000Z', ' again'), c, b]);
    const events = collect(log);
    const sameTime = [a, c].sort((x, y) => (x.eventId < y.eventId ? -1 : 1));
    expect(events).toEqual([b, ...sameTime]);
    expect(events.find((e) => e.eventId === a.eventId)!.source.ref).toBe('test');
    expect(log.size).toBe(3);
    expect(log.newestMs()).toBe(Date.parse('2024-06-02T00:00:00.000Z'));
  });

  it('mixes compact diff events with event objects, and is empty when nothing was added', () => {
    const table = new LicenseTable();
    for (const [licenseId, issueDate] of [[7, '2024-06-03T00:00:00.000Z'], [8, '2024-05-30T00:00:00.000Z']] as const) {
      table.add({
        licenseId,
        keyPackId: 3,
        hwid: { raw: `0x0${licenseId}`, norm: `0${licenseId}` },
        computer: { raw: `PC-${licenseId}`, norm: `PC-${licenseId}` },
        user: null,
        issueDate,
        expirationDate: null,
        status: 'active',
      });
    }
    const diff = diffTables(undefined, { licenseServer: 'LS01', takenAt: '2024-06-12T00:00:00.000Z', table, source: { kind: 'wmi-issued-licenses', ref: 'x' } });
    const log = new EventLog();
    log.add(diff.events);
    log.add([inventory('k', '2024-06-01T00:00:00.000Z')]);
    expect(collect(log).map((e) => e.eventTime)).toEqual(['2024-05-30T00:00:00.000Z', '2024-06-01T00:00:00.000Z', '2024-06-03T00:00:00.000Z']);

    const empty = new EventLog();
    expect(empty.size).toBe(0);
    expect(empty.newestMs()).toBe(Number.NEGATIVE_INFINITY);
    expect(collect(empty)).toEqual([]);
  });
});
