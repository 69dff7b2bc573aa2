import { describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '@calwatch/model';
import { normalizeInserts } from './service-event';
import { collect, fixture, parseBytes, rejections } from './testing/parse-helpers';
import { parseFile } from './parse-file';
import type { ParsedItem } from './types';

const observedTime = '2024-06-14T00:00:00.000Z';

type Service = Extract<CanonicalEvent, { type: 'service.event' }>;
const services = (items: ParsedItem[]): Service[] =>
  items.flatMap((i) => (i.kind === 'event' && i.event.type === 'service.event' ? [i.event] : []));

async function read(file: string): Promise<ParsedItem[]> {
  return collect(parseFile(fixture(file), { observedTime }));
}

describe('licensing events', () => {
  const files = [
    'events/licensing.wevtutil.xml',
    'events/licensing.events-root.utf16le.xml',
    'events/licensing.winlogbeat.ndjson',
  ];

  it('reads the same six events, with the same ids, from wevtutil XML, an <Events> document and Winlogbeat', async () => {
    const ids = await Promise.all(files.map(async (f) => services(await read(f)).map((e) => e.eventId)));
    expect(ids[0]).toHaveLength(6);
    expect(ids[1]).toEqual(ids[0]);
    expect(ids[2]).toEqual(ids[0]);
    const fromGetWinEvent = services(await read('events/licensing.get-winevent.xml')).map((e) => e.eventId);
    expect(fromGetWinEvent).toEqual(ids[0]!.slice(0, 3));
  });

  it.each(files)('%s: meanings and insert facts', async (file) => {
    const events = services(await read(file));
    expect(events.map((e) => [e.licenseServer, e.eventTime, e.event.code, e.event.meaning, e.event.level])).toEqual([
      ['LS01', '2024-06-12T09:30:15.123Z', 20, 'pool-low', 'warning'],
      ['LS01', '2024-06-12T10:02:44.500Z', 21, 'pool-exhausted', 'warning'],
      ['LS01', '2024-06-12T11:15:00.000Z', 81, 'revocation-limit-reached', 'error'],
      ['LS01', '2024-06-12T11:20:30.000Z', 80, 'license-revoked', 'information'],
      ['RDSH01', '2024-06-13T07:00:00.000Z', 1128, 'grace-period-expired', 'error'],
      ['RDSH01', '2024-06-13T07:05:09.999Z', 1011, 'client-temporary-license-expired', 'warning'],
    ]);
    const [low, exhausted, limit, revoked, grace, tempExpired] = events.map((e) => e.event);
    expect(low).toMatchObject({ remainingCals: 3, product: 'Windows Server 2019 - RDS Per Device CAL', provider: 'Microsoft-Windows-TerminalServices-Licensing', recordId: '1234', host: 'LS01.corp.example', channel: 'System' });
    expect(exhausted).toMatchObject({ product: 'Windows Server 2019 - RDS Per Device CAL', sessionHost: 'RDSH01' });
    expect(limit).toMatchObject({
      client: { raw: 'PC-013', norm: 'PC-013' },
      product: 'Windows Server 2016',
      revokedCount: 5,
      installedCount: 25,
      nextRevokeAllowedAt: '2024-07-01T08:00:00.000Z',
      params: { param1: 'PC-013', param2: 'Windows Server 2016', param3: '5', param4: '25', param5: '2024-07-01T08:00:00Z' },
    });
    // Logged under the legacy source name; stored under the manifest name.
    expect(revoked).toMatchObject({ provider: 'Microsoft-Windows-TerminalServices-Licensing', client: { norm: 'PC-013' }, product: 'Windows Server 2016' });
    expect(grace).toMatchObject({ sessionHost: 'RDSH01.corp.example', params: {} });
    expect(tempExpired).toMatchObject({ client: { norm: 'VDI-007' }, sessionHost: 'RDSH01.corp.example' });
    expect(events.every((e) => e.observedTime === observedTime)).toBe(true);
  });

  it.each(files)('%s: an unrelated provider is a counted rejection', async (file) => {
    const [unrelated] = rejections(await read(file));
    expect(unrelated).toMatchObject({ code: 'INGEST_UNRELATED_EVENT', record: 7 });
    expect(unrelated!.reason).toContain('"Microsoft-Windows-Security-Auditing"');
    expect(unrelated!.original.toString()).toContain('4624');
  });

  it('rejects a bad Winlogbeat line with its line number', async () => {
    const bad = rejections(await read('events/licensing.winlogbeat.ndjson'))[1];
    expect(bad).toMatchObject({ code: 'INGEST_JSON_SYNTAX', line: 8, record: 8 });
  });

  it('strips qualifier bits from event IDs', async () => {
    const xml = `<Event><System><Provider Name='Microsoft-Windows-TerminalServices-RemoteConnectionManager'/><EventID>50280</EventID><TimeCreated SystemTime='2024-06-13T07:00:00Z'/><Computer>RDSH02</Computer></System></Event>`;
    const [event] = services(await parseBytes(xml));
    expect(event!.event).toMatchObject({ code: 1128, meaning: 'grace-period-expired', recordId: null, level: null, channel: '' });
    expect(event!.licenseServer).toBe('RDSH02');
    const named = services(await parseBytes(xml, { licenseServer: 'ls01.corp.example' }));
    expect(named[0]!.licenseServer).toBe('LS01');
    const instanceId = services(await parseBytes(xml.replace('50280', String(0xc0000468))));
    expect(instanceId[0]!.event.code).toBe(1128);
    // An ID the catalog does not know is kept whole rather than guessed at.
    const unknown = services(await parseBytes(xml.replace('50280', '20497')));
    expect(unknown[0]!.event).toMatchObject({ code: 20497, meaning: 'other' });
  });

  it('rejects events without a time or computer, naming the field', async () => {
    const xml = `<Event><System><Provider Name='TermServLicensing'/><EventID>20</EventID><Computer>LS01</Computer></System></Event>\n<Event><System><Provider Name='TermServLicensing'/><EventID>x</EventID><TimeCreated SystemTime='2024-06-13T07:00:00Z'/></System></Event>`;
    expect(rejections(await parseBytes(xml)).map((r) => [r.record, r.code, r.field, r.issues.length])).toEqual([
      [1, 'INGEST_MISSING_FIELD', 'System/TimeCreated/@SystemTime', 1],
      [2, 'INGEST_BAD_FIELD', 'System/EventID', 2],
    ]);
  });

  it('keeps reading after malformed events and refuses DTD entities', async () => {
    const items = await read('events/licensing.bad.xml');
    expect(items.map((i) => (i.kind === 'rejected' ? [i.rejection.record, i.rejection.code] : [i.kind === 'event' ? i.record : 0, 'event']))).toEqual([
      [1, 'event'],
      [2, 'INGEST_XML_SYNTAX'],
      [3, 'INGEST_XML_SYNTAX'],
      [4, 'INGEST_XML_NOT_EVENT'],
      [5, 'event'],
      [6, 'INGEST_XML_SYNTAX'],
    ]);
    const [broken, entity, , truncated] = rejections(items);
    expect(broken!.reason).toContain('unexpected close tag');
    expect(entity!.reason).toContain('undefined entity');
    expect(truncated!.reason).toContain('ended inside this <Event>');
  });

  it('reports a DOCTYPE before the first event and never expands its entities', async () => {
    const lol = '<!DOCTYPE Event [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>';
    const items = await parseBytes(`${lol}<Event><System><Provider Name='TermServLicensing'/><EventID>80</EventID><TimeCreated SystemTime='2024-06-13T07:00:00Z'/><Computer>LS01</Computer></System><EventData><Data>&c;</Data></EventData></Event>`);
    expect(items.map((i) => i.kind === 'rejected' && [i.rejection.code, i.rejection.record])).toEqual([
      ['INGEST_XML_SYNTAX', null],
      ['INGEST_XML_SYNTAX', 1],
    ]);
    expect(items.every((i) => i.kind !== 'rejected' || i.rejection.original.length < 1000)).toBe(true);
  });
});

describe('normalizeInserts', () => {
  it('renames 0-based params to 1-based', () => {
    expect(normalizeInserts([{ name: 'param0', value: 'a' }, { name: 'param1', value: 'b' }])).toEqual({ param1: 'a', param2: 'b' });
  });
  it('numbers unnamed inserts and keeps template names beside their position', () => {
    expect(normalizeInserts([{ name: null, value: 'a' }, { name: null, value: 'b' }])).toEqual({ param1: 'a', param2: 'b' });
    expect(normalizeInserts([{ name: 'ServerName', value: 'LS01' }, { name: 'Count', value: '3' }])).toEqual({
      ServerName: 'LS01',
      Count: '3',
      param1: 'LS01',
      param2: '3',
    });
  });
});

describe('canonical and client-store NDJSON', () => {
  it('accepts canonical events as they are and rejects schema violations with issues', async () => {
    const items = await collect(parseFile(fixture('canonical/events.ndjson'), { observedTime }));
    expect(items.filter((i) => i.kind === 'event')).toHaveLength(11);
    const [bad] = rejections(items);
    expect(bad).toMatchObject({ code: 'INGEST_SCHEMA_INVALID', line: 12, record: 12 });
    expect(bad!.issues.map((i) => i.path)).toContain('eventId');
  });

  it('normalises the caller\'s observedTime to a UTC instant', async () => {
    const items = await parseBytes('{"computer":"PC-1","hwids":["0a"]}\n', { format: 'client-store', licenseServer: 'LS01', observedTime: '2024-06-14T02:00:00+02:00' });
    expect(items[0]).toMatchObject({ kind: 'event', event: { observedTime: '2024-06-14T00:00:00.000Z', eventTime: '2024-06-14T00:00:00.000Z' } });
  });

  it('reads client stores, defaulting time and server, and rejects empty or non-hex HWIDs', async () => {
    const items = await collect(parseFile(fixture('client-store/stores.ndjson'), { observedTime, licenseServer: 'LS01' }));
    const events = items.flatMap((i) => (i.kind === 'event' && i.event.type === 'client.store' ? [i.event] : []));
    expect(events.map((e) => [e.computer.norm, e.hwids.length, e.licenseServer, e.eventTime])).toEqual([
      ['VDI-007', 1, 'LS01', '2024-06-13T06:00:00.000Z'],
      ['PC-042', 2, 'LS01', '2024-06-13T06:00:05.000Z'],
      ['KIOSK-01', 1, 'LS01', observedTime],
    ]);
    expect(rejections(items).map((r) => [r.record, r.code, r.field])).toEqual([
      [4, 'INGEST_BAD_FIELD', 'hwids'],
      [5, 'INGEST_BAD_FIELD', 'hwids.0'],
    ]);
  });
});
