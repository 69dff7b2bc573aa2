import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { LicenseFact } from '@calwatch/model';
import { collectSnapshots } from './collect-snapshots';
import { parseFile } from './parse-file';
import { diffSnapshot } from './snapshot-differ';
import { collect, fixture, parseBytes, rejections } from './testing/parse-helpers';
import { waitFor } from '../../../test/harness/wait-for';
import type { ParsedItem } from './types';

const observedTime = '2024-06-10T00:00:00.000Z';

const EXPECTED: LicenseFact[] = [
  {
    licenseId: 17,
    keyPackId: 3,
    hwid: { raw: '0x00000002, 0x1A2B3C4D, 0x5E6F7081, 0x92A3B4C5, 0xD6E7F809', norm: '000000021a2b3c4d5e6f708192a3b4c5d6e7f809' },
    computer: { raw: 'PC-042', norm: 'PC-042' },
    user: 'CORP\\jdoe',
    issueDate: '2024-04-15T09:30:15.000Z',
    expirationDate: '2024-06-12T09:30:15.000Z',
    status: 'active',
  },
  {
    licenseId: 18,
    keyPackId: 3,
    hwid: { raw: '0x00000002, 0x0BADF00D, 0x11223344, 0x55667788, 0x99AABBCC', norm: '000000020badf00d112233445566778899aabbcc' },
    computer: { raw: 'VDI-007', norm: 'VDI-007' },
    user: 'CORP\\asmith',
    issueDate: '2024-05-02T14:05:00.000Z',
    expirationDate: '2024-07-31T14:05:00.000Z',
    status: 'temporary',
  },
  {
    licenseId: 19,
    keyPackId: 3,
    hwid: { raw: '0x00000002, 0xCAFEBABE, 0x00000001, 0x00000002, 0x00000003', norm: '00000002cafebabe000000010000000200000003' },
    computer: { raw: 'PC-013.corp.example', norm: 'PC-013' },
    user: 'CORP\\bwong',
    issueDate: '2024-03-01T08:00:00.000Z',
    expirationDate: '2024-05-20T08:00:00.000Z',
    status: 'revoked',
  },
  {
    licenseId: 20,
    keyPackId: 4,
    hwid: { raw: '0x00000002, 0xFEEDFACE, 0x0000000A, 0x0000000B, 0x0000000C', norm: '00000002feedface0000000a0000000b0000000c' },
    computer: { raw: 'KIOSK-01', norm: 'KIOSK-01' },
    user: 'CORP\\svc "kiosk", shared',
    issueDate: '2024-05-20T22:10:45.000Z',
    expirationDate: '2024-07-18T22:10:45.000Z',
    status: 'active',
  },
  {
    licenseId: 21,
    keyPackId: 4,
    hwid: { raw: '0x00000002, 0xDEADBEEF, 0x01010101, 0x02020202, 0x03030303', norm: '00000002deadbeef010101010202020203030303' },
    computer: { raw: 'VDI-008', norm: 'VDI-008' },
    user: null,
    issueDate: '2024-06-01T06:00:00.000Z',
    expirationDate: null,
    status: 'temporary',
  },
];

async function licensesOf(file: string, extra: { licenseServer?: string } = {}): Promise<ParsedItem[]> {
  return collect(parseFile(fixture(file), { observedTime, ...extra }));
}

describe('Win32_TSIssuedLicense exports', () => {
  it.each([
    'wmi/issued-licenses.ps51.csv',
    'wmi/issued-licenses.ps51.lf.csv',
    'wmi/issued-licenses.ps51.utf8bom.csv',
    'wmi/issued-licenses.ps51.utf16le.csv',
    'wmi/issued-licenses.ps51.utf16be.csv',
    'wmi/issued-licenses.script.ps7.csv',
    'wmi/issued-licenses.script.json',
    'wmi/issued-licenses.ps51-cim.json',
    'wmi/issued-licenses.ps7-cim.json',
  ])('%s reads into the same license facts', async (file) => {
    const items = await licensesOf(file);
    expect(rejections(items)).toEqual([]);
    expect(items).toEqual(EXPECTED.map((license, i) => ({ kind: 'issued-license', licenseServer: 'LS01', license, record: i + 1 })));
  });

  it('reads a single ConvertTo-Json object with ETS date objects', async () => {
    const items = await licensesOf('wmi/issued-licenses.ps51-ets-single.json');
    expect(items).toEqual([{ kind: 'issued-license', licenseServer: 'LS01', license: EXPECTED[0], record: 1 }]);
  });

  it('gives identical snapshot events from the CSV and the JSON export of one table', async () => {
    const source = { kind: 'wmi-issued-licenses' as const, ref: 'x' };
    const fromCsv = await collectSnapshots(parseFile(fixture('wmi/issued-licenses.ps51.csv'), { observedTime }), { takenAt: observedTime, source });
    const fromJson = await collectSnapshots(parseFile(fixture('wmi/issued-licenses.ps7-cim.json'), { observedTime }), { takenAt: observedTime, source });
    const a = diffSnapshot(undefined, fromCsv.issued[0]!).events.map((e) => e.eventId);
    const b = diffSnapshot(undefined, fromJson.issued[0]!).events.map((e) => e.eventId);
    expect(a).toHaveLength(5);
    expect(a).toEqual(b);
  });

  it('explains a culture-formatted Get-CimInstance CSV instead of guessing a time zone', async () => {
    const items = await licensesOf('wmi/issued-licenses.ps7-cim-culture-dates.csv', { licenseServer: 'ls01.corp.example' });
    const [first] = rejections(items);
    expect(rejections(items)).toHaveLength(2);
    expect(first).toMatchObject({ code: 'INGEST_BAD_FIELD', field: 'IssueDate', line: 2, record: 1 });
    expect(first!.reason).toContain('culture-formatted local time');
    expect(first!.issues.map((i) => i.path)).toEqual(['IssueDate', 'ExpirationDate']);
    expect(first!.original.toString()).toBe(readFileSync(fixture('wmi/issued-licenses.ps7-cim-culture-dates.csv'), 'utf8').split('\r\n')[1]);
  });

  it('rejects bad rows precisely and keeps the good ones', async () => {
    const header = '"PSComputerName","LicenseId","KeyPackId","sIssuedToUser","sIssuedToComputer","LicenseStatus","IssueDate","ExpirationDate","sHardwareId"';
    const good = '"LS01","1","3","u","PC-1","2","20240401000000.000000+000","20240601000000.000000+000","0xAB"';
    const csv = [
      header,
      good,
      '"LS01","2","3","u","PC-2","2","20240401000000.******+000",,"0xAB"',
      '"LS01","3","3","u","PC-3","9","20240401000000.000000+000",,"0xAB"',
      '"LS01","4","3","u","PC-4","2","20240401000000.000000+000",,"--"',
      '"LS01",,"3","u","PC-5","2","20240401000000.000000+000",,"0xAB"',
      '"LS01","6","3","u","PC-6","2","20240401000000.000000+000",,"0xAB","extra"',
      ',"7","3","u","PC-7","2","20240401000000.000000+000",,"0xAB"',
      '"LS01","8","3","u","PC-8","2","20240401000000.000000+000",,"0xAB',
    ].join('\r\n');
    const items = await parseBytes(csv, { format: 'wmi-issued-licenses' });
    expect(items).toHaveLength(8);
    expect(items[0]).toMatchObject({ kind: 'issued-license', record: 1 });
    expect(rejections(items).map((r) => [r.record, r.line, r.code, r.field])).toEqual([
      [2, 3, 'INGEST_BAD_FIELD', 'IssueDate'],
      [3, 4, 'INGEST_BAD_FIELD', 'LicenseStatus'],
      [4, 5, 'INGEST_BAD_FIELD', 'sHardwareId'],
      [5, 6, 'INGEST_MISSING_FIELD', 'LicenseId'],
      [6, 7, 'INGEST_CSV_COLUMN_COUNT', null],
      [7, 8, 'INGEST_MISSING_FIELD', 'PSComputerName'],
      [8, 9, 'INGEST_CSV_SYNTAX', null],
    ]);
    const [date, status, hwid] = rejections(items);
    expect(date!.reason).toBe('test, line 3, record 2: IssueDate: expected a WMI DATETIME with every field specified (found `*` placeholders, so the instant is unknown), found "20240401000000.******+000"');
    expect(status!.reason).toContain('expected a LicenseStatus code 0..6');
    expect(hwid!.reason).toContain('found "--" (nothing left after normalisation)');
    expect(rejections(items)[6]!.reason).toContain('unterminated quote');
  });

  it('uses the fallback license server when rows carry none', async () => {
    const csv = '"LicenseId","KeyPackId","sIssuedToComputer","LicenseStatus","IssueDate","sHardwareId"\n"1","3","PC-1","1","2024-04-01T00:00:00Z","0a"\n';
    const [item] = await parseBytes(csv, { licenseServer: 'ls09.corp.example' });
    expect(item).toMatchObject({ kind: 'issued-license', licenseServer: 'LS09', license: { user: null, expirationDate: null } });
  });

  it('rejects JSON elements that are not objects or not JSON, and flags a cut-off array', async () => {
    const text = '[{"PSComputerName":"LS01","LicenseId":1,"KeyPackId":3,"sIssuedToComputer":"PC","LicenseStatus":1,"IssueDate":"/Date(0)/","sHardwareId":"0a"}, 5, {"LicenseId": tru}, {"LicenseId"';
    const items = await parseBytes(text, { format: 'wmi-issued-licenses' });
    expect(items.map((i) => (i.kind === 'rejected' ? [i.rejection.code, i.rejection.record] : i.kind))).toEqual([
      'issued-license',
      ['INGEST_SCHEMA_INVALID', 2],
      ['INGEST_JSON_SYNTAX', 3],
      ['INGEST_JSON_SYNTAX', 4],
      ['INGEST_JSON_SYNTAX', null],
    ]);
  });

  it('unwraps the {"value": [...], "Count": n} array rendering of Windows PowerShell 5.1', async () => {
    const rows = JSON.parse(readFileSync(fixture('wmi/issued-licenses.script.json'), 'utf8')) as unknown[];
    const items = await parseBytes(JSON.stringify({ value: rows, Count: rows.length }));
    expect(items.map((i) => i.kind === 'issued-license' && [i.record, i.license.licenseId])).toEqual([
      [1, 17],
      [2, 18],
      [3, 19],
      [4, 20],
      [5, 21],
    ]);
  });

  it('reads gzip transparently, by magic bytes', async () => {
    const gz = gzipSync(readFileSync(fixture('wmi/issued-licenses.ps51.utf16le.csv')));
    const items = await parseBytes(gz, {}, 100);
    expect(items.map((i) => i.kind === 'issued-license' && i.license.licenseId)).toEqual([17, 18, 19, 20, 21]);
  });

  it('turns a corrupt gzip stream into a rejection after what was readable', async () => {
    const gz = gzipSync(readFileSync(fixture('wmi/issued-licenses.ps51.csv')));
    const items = await parseBytes(gz.subarray(0, gz.length - 200));
    const last = items[items.length - 1]!;
    expect(last.kind === 'rejected' && last.rejection.code).toBe('INGEST_COMPRESSION_INVALID');
  });
});

describe('Win32_TSLicenseKeyPack exports', () => {
  it.each(['wmi/keypacks.ps51.csv', 'wmi/keypacks.script.json', 'wmi/keypacks.ps7-cim.json'])('%s', async (file) => {
    const items = await collect(parseFile(fixture(file), { observedTime }));
    expect(rejections(items)).toEqual([]);
    expect(items.map((i) => (i.kind === 'keypack' ? [i.licenseServer, i.keyPack] : i.kind))).toEqual([
      ['LS01', { keyPackId: 2, keyPackType: 0, productVersion: 'Windows Server 2012', productVersionId: 4, description: 'Built-in TS Per Device Cal', typeAndModel: 'Built-in TS Per Device Cal', totalLicenses: 4294967295, availableLicenses: 4294967295, issuedLicenses: 0, expirationDate: null }],
      ['LS01', { keyPackId: 3, keyPackType: 2, productVersion: 'Windows Server 2016', productVersionId: 5, description: 'A02-6.00-S', typeAndModel: 'RDS Per Device CAL', totalLicenses: 50, availableLicenses: 47, issuedLicenses: 3, expirationDate: null }],
      ['LS01', { keyPackId: 4, keyPackType: 2, productVersion: 'Windows Server 2019', productVersionId: 6, description: 'A02-6.00-S', typeAndModel: 'RDS Per Device CAL', totalLicenses: 25, availableLicenses: 23, issuedLicenses: 2, expirationDate: '2026-12-31T23:59:59.000Z' }],
      ['LS01', { keyPackId: 5, keyPackType: 4, productVersion: 'Windows Server 2019', productVersionId: 6, description: 'Temporary Licenses for RDS Per Device CAL', typeAndModel: 'RDS Per Device CAL', totalLicenses: 0, availableLicenses: 0, issuedLicenses: 1, expirationDate: null }],
    ]);
  });
});

describe('parseFile', () => {
  it('closes the file when the consumer stops early', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calwatch-ingest-'));
    const path = join(dir, 'big.csv');
    const [typeLine, header, row] = readFileSync(fixture('wmi/issued-licenses.ps51.csv'), 'utf8').split('\r\n');
    writeFileSync(path, [typeLine, header, ...Array<string>(5000).fill(row!)].join('\r\n'));
    writeFileSync(`${path}.gz`, gzipSync(readFileSync(path)));
    try {
      const before = readdirSync('/proc/self/fd').length;
      for (let i = 0; i < 20; i += 1) {
        for await (const batch of parseFile(i % 2 === 0 ? path : `${path}.gz`, { observedTime })) {
          expect(batch[0]?.kind).toBe('issued-license');
          break;
        }
      }
      // Closing is asynchronous: wait for the descriptors to be given back.
      await waitFor(() => readdirSync('/proc/self/fd').length - before < 5, 2_000, 'the abandoned files to be closed', { intervalMs: 10 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
