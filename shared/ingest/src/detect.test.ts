import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { detectFormat } from './detect';
import { fixture, parseBytes } from './testing/parse-helpers';

describe('detectFormat', () => {
  it.each([
    ['wmi/issued-licenses.ps51.csv', 'wmi-issued-licenses'],
    ['wmi/issued-licenses.ps51.utf16le.csv', 'wmi-issued-licenses'],
    ['wmi/issued-licenses.ps51.utf16be.csv', 'wmi-issued-licenses'],
    ['wmi/issued-licenses.ps51.utf8bom.csv', 'wmi-issued-licenses'],
    ['wmi/issued-licenses.script.ps7.csv', 'wmi-issued-licenses'],
    ['wmi/issued-licenses.ps7-cim-culture-dates.csv', 'wmi-issued-licenses'],
    ['wmi/issued-licenses.ps51-cim.json', 'wmi-issued-licenses'],
    ['wmi/issued-licenses.ps51-ets-single.json', 'wmi-issued-licenses'],
    ['wmi/issued-licenses.ps7-cim.json', 'wmi-issued-licenses'],
    ['wmi/issued-licenses.script.json', 'wmi-issued-licenses'],
    ['wmi/keypacks.ps51.csv', 'wmi-keypacks'],
    ['wmi/keypacks.script.json', 'wmi-keypacks'],
    ['wmi/keypacks.ps7-cim.json', 'wmi-keypacks'],
    ['events/licensing.wevtutil.xml', 'evtx-xml'],
    ['events/licensing.events-root.utf16le.xml', 'evtx-xml'],
    ['events/licensing.get-winevent.xml', 'evtx-xml'],
    ['events/licensing.winlogbeat.ndjson', 'winlogbeat'],
    ['canonical/events.ndjson', 'canonical'],
    ['client-store/stores.ndjson', 'client-store'],
  ])('%s is %s', (file, format) => {
    expect(detectFormat(readFileSync(fixture(file)).subarray(0, 4096))).toBe(format);
  });

  it('uses the #TYPE line when the header is cut off, and the file name as a last resort', () => {
    expect(detectFormat(Buffer.from('#TYPE System.Management.ManagementObject#root\\cimv2\\Win32_TSLicenseKeyPack\r\n"PSCompu'))).toBe('wmi-keypacks');
    expect(detectFormat(Buffer.from('[\r\n'), 'snap-keypacks.json')).toBe('wmi-keypacks');
    expect(detectFormat(Buffer.from('hello'), 'x.XML.gz')).toBe('evtx-xml');
  });

  it('reads UTF-16 without a BOM and ANSI (windows-1252) exports', async () => {
    const csv = '"PSComputerName","LicenseId","KeyPackId","sIssuedToUser","sIssuedToComputer","LicenseStatus","IssueDate","sHardwareId"\r\n"LS01","1","3","CORP\\zoë","PC-1","2","20240401000000.000000+000","0a"\r\n';
    for (const bytes of [Buffer.from(csv, 'utf16le'), Buffer.from(csv, 'latin1')]) {
      expect(detectFormat(bytes)).toBe('wmi-issued-licenses');
      const [item] = await parseBytes(bytes, {}, 7);
      expect(item).toMatchObject({ kind: 'issued-license', license: { user: 'CORP\\zoë' } });
    }
  });

  it('knows nothing of gzip, empty input or unrelated text', () => {
    expect(detectFormat(gzipSync(Buffer.from('{}')))).toBeUndefined();
    expect(detectFormat(Buffer.alloc(0))).toBeUndefined();
    expect(detectFormat(Buffer.from('"Name","Handles"\r\n"explorer","1"'))).toBeUndefined();
    expect(detectFormat(Buffer.from('<html><body/></html>'))).toBeUndefined();
  });

  it('makes parseStream reject undetectable input as a whole', async () => {
    const items = await parseBytes('"Name","Handles"\r\n"explorer","1"\r\n');
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: 'rejected', rejection: { code: 'INGEST_UNKNOWN_FORMAT', record: null } });
  });
});
