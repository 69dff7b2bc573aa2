import { describe, expect, it } from 'vitest';
import { LicenseTable, diffTables, type TableSnapshot } from '@calwatch/ingest';
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

type Change = 'none' | 'reissued' | 'upgraded' | 'renewed' | 'revoked';

/** A license server's table at one instant: licenses 1..n, each changed from the first table as `change` says. */
function snapshot(takenAt: string, licenses: number, change: (licenseId: number) => Change): TableSnapshot {
  const table = new LicenseTable();
  for (let licenseId = 1; licenseId <= licenses; licenseId++) {
    const how = change(licenseId);
    const reissued = how === 'reissued';
    table.add({
      licenseId,
      keyPackId: 3,
      hwid: { raw: `0x${reissued ? 'b' : 'a'}${licenseId}`, norm: `${reissued ? 'b' : 'a'}${licenseId}` },
      computer: { raw: `PC-${licenseId}`, norm: `pc-${licenseId}` },
      user: licenseId % 3 === 0 ? null : `CONTOSO\\u${licenseId}`,
      issueDate: new Date(Date.UTC(2024, 0, 1) + (reissued ? 200 : 0) * 86_400_000 + licenseId * 60_000).toISOString(),
      expirationDate: licenseId % 5 === 0 ? null : how === 'renewed' ? '2025-03-01T00:00:00.000Z' : '2025-01-01T00:00:00.000Z',
      status: how === 'revoked' ? 'revoked' : how === 'upgraded' || licenseId % 7 !== 0 ? 'active' : 'temporary',
    });
  }
  table.trim();
  return { licenseServer: 'LS01', takenAt, table, source: { kind: 'wmi-issued-licenses', ref: takenAt } };
}

const CHANGES: readonly Change[] = ['none', 'reissued', 'upgraded', 'renewed', 'revoked'];

/** Two snapshots diffed (every license issued, then reissued, upgraded, renewed, revoked, returned) and a few event objects. */
function mixedLog(): EventLog {
  const log = new EventLog();
  const first = snapshot('2024-06-12T00:00:00.000Z', 300, () => 'none');
  // Licenses past 280 are gone from the second (returned), 301..320 are new.
  const second = snapshot('2024-09-12T00:00:00.000Z', 320, (id) => CHANGES[id % CHANGES.length]!);
  const removed = new LicenseTable();
  for (let row = 0; row < second.table.size; row++) if (second.table.licenseId(row) <= 280 || second.table.licenseId(row) > 300) removed.copyRow(second.table, row);
  log.add(diffTables(undefined, first).events);
  log.add(diffTables(first, { ...second, table: removed }).events);
  log.add([inventory('k1', '2024-06-01T00:00:00.000Z'), inventory('k2', '2024-08-01T00:00:00.000Z')]);
  return log;
}

describe('EventLog.drain', () => {
  it('hands out the events forEach does, in the same order, window after window, and leaves the log empty', () => {
    const expected = collect(mixedLog());
    expect(new Set(expected.map((event) => event.type))).toEqual(
      new Set(['keypack.inventory', 'license.issued', 'license.returned', 'license.upgraded', 'license.renewed', 'license.revoked']),
    );
    for (const windowEvents of [1, 7, 64, 1000]) {
      const log = mixedLog();
      const drained: CanonicalEvent[] = [];
      log.drain((timeMs, build) => {
        const event = build();
        expect(timeMs).toBe(Date.parse(event.eventTime));
        drained.push(event);
      }, windowEvents);
      expect(drained).toEqual(expected);
      expect(() => log.forEach(() => undefined)).toThrow(/drained/);
      expect(() => log.drain(() => undefined)).toThrow(/drained/);
    }
  });
});

describe('EventLog.singleUseKeys', () => {
  const at = '2024-07-01T00:00:00.000Z';
  const envelope = (id: string) => ({ schemaVersion: 1 as const, eventId: buildEventId('test', id), eventTime: at, observedTime: at, source, licenseServer: 'LS01' });
  const issued = (id: string, hwid: string, computer: string): CanonicalEvent => ({
    ...envelope(id),
    type: 'license.issued',
    license: { licenseId: 900, keyPackId: 3, hwid: { raw: hwid, norm: hwid }, computer: { raw: computer, norm: computer }, user: null, issueDate: at, expirationDate: null, status: 'active' },
  });

  it('names the HWIDs and names one added event alone names, as counted over the events themselves', () => {
    const log = mixedLog();
    const solo = issued('solo', 'C9', 'PC-SOLO');
    // Added twice: one event once de-duplicated, yet a repeat counts (the safe side).
    const twice = issued('twice', 'C8', 'PC-TWICE');
    log.add([solo, twice, { ...envelope('store'), type: 'client.store', computer: { raw: 'pc-1', norm: 'pc-1' }, hwids: [{ raw: 'A1', norm: 'a1' }] }]);
    log.add([twice]);
    const keys = log.singleUseKeys();

    const hwids = new Map<string, number>();
    const names = new Map<string, number>();
    const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
    for (const event of collect(log)) {
      if ('license' in event) {
        count(hwids, event.license.hwid.norm);
        count(names, `LS01|${event.license.computer.norm}`);
      } else if (event.type === 'client.store') count(names, `LS01|${event.computer.norm}`);
    }
    count(hwids, 'C8');
    count(names, 'LS01|PC-TWICE');
    let single = 0;
    for (const [hwid, n] of hwids) {
      expect(keys.hwid(hwid), hwid).toBe(n === 1);
      if (n === 1) single++;
    }
    for (const [name, n] of names) expect(keys.computer(name), name).toBe(n === 1);
    // Reissued licenses bring new HWIDs; renewals, upgrades and returns name the HWID again.
    expect(single).toBeGreaterThan(20);
    expect(single).toBeLessThan(hwids.size);
    expect(keys.computer('LS01|pc-1')).toBe(false);
    expect(keys.hwid('C9')).toBe(true);
  });
});
