import { describe, expect, it } from 'vitest';
import { buildComputer, buildHwid, type LicenseFact } from '@calwatch/model';
import { csvField, ps51Csv, ps7CimCsv, ps7Csv, psJson, toDmtf, toEnUsDateTime, toMsJsonDate, toPs7JsonDate } from './format-wmi';

// The column layout of docs/licensing-reference.md §3.1, with a real HWID rendering.
const license: LicenseFact = {
  licenseId: 17,
  keyPackId: 3,
  hwid: buildHwid('00000002-0FC5CC6B-DF620B33-1FB7FFAC-4B7A2535')!,
  computer: buildComputer('PC-042'),
  user: 'jdoe',
  issueDate: '2024-04-15T09:30:15.000Z',
  expirationDate: '2024-06-12T09:30:15.000Z',
  status: 'active',
};

describe('date renderings', () => {
  it('renders WMI DATETIME, en-US DateTime and both ConvertTo-Json dates', () => {
    expect(toDmtf('2024-06-12T09:30:15.123Z')).toBe('20240612093015.123000+000');
    expect(toDmtf('2024-06-12T09:30:15Z')).toBe('20240612093015.000000+000');
    expect(toEnUsDateTime('2024-06-12T09:30:15.000Z')).toBe('6/12/2024 9:30:15 AM');
    expect(toEnUsDateTime('2024-12-01T00:05:09.000Z')).toBe('12/1/2024 12:05:09 AM');
    expect(toEnUsDateTime('2024-12-01T12:00:00.000Z')).toBe('12/1/2024 12:00:00 PM');
    expect(toMsJsonDate('2019-11-19T22:33:39.000Z')).toBe('"\\/Date(1574202819000)\\/"');
    expect(toPs7JsonDate('2019-11-19T22:32:50.000Z')).toBe('"2019-11-19T22:32:50+00:00"');
    expect(toPs7JsonDate('2019-11-19T22:32:50.120Z')).toBe('"2019-11-19T22:32:50.12+00:00"');
  });

  it('quotes every CSV value, doubles quotes and leaves null empty', () => {
    expect(csvField('a "b", c')).toBe('"a ""b"", c"');
    expect(csvField('')).toBe('""');
    expect(csvField(null)).toBe('');
  });
});

describe('Win32_TSIssuedLicense exports', () => {
  it('writes the PS 5.1 Export-Csv header and row of docs/licensing-reference.md §3.1', () => {
    const table = ps51Csv<LicenseFact>('Win32_TSIssuedLicense', { server: 'LS01' });
    expect(table.head(1)).toBe(
      '#TYPE System.Management.ManagementObject#root\\cimv2\\Win32_TSIssuedLicense\r\n' +
        '"PSComputerName","__GENUS","__CLASS","__SUPERCLASS","__DYNASTY","__RELPATH","__PROPERTY_COUNT","__DERIVATION","__SERVER","__NAMESPACE","__PATH","ExpirationDate","IssueDate","KeyPackId","LicenseId","LicenseStatus","sHardwareId","sIssuedToComputer","sIssuedToUser","Scope","Path","Options","ClassPath","Properties","SystemProperties","Qualifiers","Site","Container"\r\n',
    );
    // The DMTF form of a zero UTC offset is +000.
    expect(table.row(license, 0, 1)).toBe(
      '"LS01","2","Win32_TSIssuedLicense",,"Win32_TSIssuedLicense","Win32_TSIssuedLicense.KeyPackId=3,LicenseId=17","8","System.String[]","LS01","root\\cimv2","\\\\LS01\\root\\cimv2:Win32_TSIssuedLicense.KeyPackId=3,LicenseId=17","20240612093015.000000+000","20240415093015.000000+000","3","17","2","00000002-0FC5CC6B-DF620B33-1FB7FFAC-4B7A2535","PC-042","jdoe","System.Management.ManagementScope","\\\\LS01\\root\\cimv2:Win32_TSIssuedLicense.KeyPackId=3,LicenseId=17","System.Management.ObjectGetOptions","\\\\LS01\\root\\cimv2:Win32_TSIssuedLicense","System.Management.PropertyDataCollection","System.Management.PropertyDataCollection","System.Management.QualifierDataCollection",,\r\n',
    );
  });

  it('writes the collection script\'s PS 7 CSV: selected properties, UTC round-trip dates', () => {
    const table = ps7Csv<LicenseFact>('Win32_TSIssuedLicense', { server: 'LS01' });
    expect(table.head(1)).toBe(
      '"PSComputerName","LicenseId","KeyPackId","sIssuedToUser","sIssuedToComputer","LicenseStatus","IssueDate","ExpirationDate","sHardwareId"\r\n',
    );
    expect(table.row(license, 0, 1)).toBe(
      '"LS01","17","3","jdoe","PC-042","2","2024-04-15T09:30:15.0000000Z","2024-06-12T09:30:15.0000000Z","00000002-0FC5CC6B-DF620B33-1FB7FFAC-4B7A2535"\r\n',
    );
  });

  it('writes PS 7 Export-Csv of CIM instances without #TYPE and with en-US dates', () => {
    const table = ps7CimCsv<LicenseFact>('Win32_TSIssuedLicense', { server: 'LS01' });
    expect(table.head(1).startsWith('"ExpirationDate","IssueDate","KeyPackId","LicenseId"')).toBe(true);
    expect(table.row({ ...license, user: null }, 0, 1)).toBe(
      '"6/12/2024 9:30:15 AM","4/15/2024 9:30:15 AM","3","17","2","00000002-0FC5CC6B-DF620B33-1FB7FFAC-4B7A2535","PC-042",,"LS01","root/cimv2:Win32_TSIssuedLicense","Microsoft.Management.Infrastructure.Internal.Data.CimPropertiesCollection","Microsoft.Management.Infrastructure.CimSystemProperties"\r\n',
    );
  });

  const render = (edition: '5.1' | '7', rows: LicenseFact[]): string => {
    const table = psJson<LicenseFact>('Win32_TSIssuedLicense', { server: 'LS01' }, edition);
    return table.head(rows.length) + rows.map((r, i) => table.row(r, i, rows.length)).join('') + table.tail(rows.length);
  };

  it('writes ConvertTo-Json 5.1 with /Date()/ and its own indentation, unrolling a single object', () => {
    const one = render('5.1', [license]);
    expect(one.startsWith('{\r\n    "PSComputerName":  "LS01",\r\n    "LicenseId":  17,')).toBe(true);
    expect(JSON.parse(one)).toMatchObject({ LicenseId: 17, IssueDate: '/Date(1713173415000)/', LicenseStatus: 2 });
    const two = JSON.parse(render('5.1', [license, { ...license, licenseId: 18 }]));
    expect(two.map((r: { LicenseId: number }) => r.LicenseId)).toEqual([17, 18]);
    expect(render('5.1', [])).toBe('');
  });

  it('writes ConvertTo-Json 7 with ISO dates', () => {
    const parsed = JSON.parse(render('7', [license, { ...license, licenseId: 18, user: null }]));
    expect(parsed[1]).toEqual({
      PSComputerName: 'LS01',
      LicenseId: 18,
      KeyPackId: 3,
      sIssuedToUser: null,
      sIssuedToComputer: 'PC-042',
      sHardwareId: '00000002-0FC5CC6B-DF620B33-1FB7FFAC-4B7A2535',
      LicenseStatus: 2,
      IssueDate: '2024-04-15T09:30:15+00:00',
      ExpirationDate: '2024-06-12T09:30:15+00:00',
    });
  });
});
