/**
 * Parser throughput: a 1,000,000-row Windows PowerShell 5.1 `Export-Csv` of
 * Win32_TSIssuedLicense, a ConvertTo-Json export and Winlogbeat NDJSON, each generated
 * to a temporary file (streamed) and read back through parseFile. Reports rows per
 * second and the peak RSS seen while parsing, which must stay flat as files grow. Event
 * XML (wevtutil) is measured too.
 *
 *   npx tsx bench/parsers.bench.ts [--csv-rows N] [--json-rows N] [--ndjson-rows N] [--xml-rows N]
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseFile, type InputFormat } from '@calwatch/ingest';
import type { BenchResult } from './run';

export interface ParserBenchOptions {
  csvRows: number;
  jsonRows: number;
  ndjsonRows: number;
  xmlRows: number;
}

const DEFAULTS: ParserBenchOptions = { csvRows: 1_000_000, jsonRows: 200_000, ndjsonRows: 200_000, xmlRows: 100_000 };

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const hwidOf = (i: number) => `0x00000002, 0x${pad(i, 8)}, 0x5E6F7081, 0x92A3B4C5, 0xD6E7F809`;
const wmiDate = (day: number) => `2024${pad(1 + (day % 12), 2)}${pad(1 + (day % 28), 2)}093015.000000+120`;

const CSV_HEADER =
  '#TYPE System.Management.ManagementObject#root\\cimv2\\Win32_TSIssuedLicense\r\n' +
  '"PSComputerName","__GENUS","__CLASS","__SUPERCLASS","__DYNASTY","__RELPATH","__PROPERTY_COUNT","__DERIVATION","__SERVER","__NAMESPACE","__PATH","ExpirationDate","IssueDate","KeyPackId","LicenseId","LicenseStatus","sHardwareId","sIssuedToComputer","sIssuedToUser","Scope","Path","Options","ClassPath","Properties","SystemProperties","Qualifiers","Site","Container"\r\n';

function csvRow(i: number): string {
  const rel = `Win32_TSIssuedLicense.KeyPackId=3,LicenseId=${i}`;
  const path = `\\\\LS01\\root\\cimv2:${rel}`;
  return `"LS01","2","Win32_TSIssuedLicense",,"Win32_TSIssuedLicense","${rel}","8","System.String[]","LS01","root\\cimv2","${path}","${wmiDate(i + 60)}","${wmiDate(i)}","3","${i}","${1 + (i % 2)}","${hwidOf(i)}","PC-${pad(i, 7)}","CORP\\user${i % 5000}","System.Management.ManagementScope","${path}","System.Management.ObjectGetOptions","\\\\LS01\\root\\cimv2:Win32_TSIssuedLicense","System.Management.PropertyDataCollection","System.Management.PropertyDataCollection","System.Management.QualifierDataCollection",,\r\n`;
}

function jsonRow(i: number, last: boolean): string {
  const ms = Date.UTC(2024, 0, 1) + i * 60_000;
  return `    {\r\n        "PSComputerName":  "LS01",\r\n        "LicenseId":  ${i},\r\n        "KeyPackId":  3,\r\n        "sIssuedToUser":  "CORP\\\\user${i % 5000}",\r\n        "sIssuedToComputer":  "PC-${pad(i, 7)}",\r\n        "LicenseStatus":  ${1 + (i % 2)},\r\n        "IssueDate":  "\\/Date(${ms})\\/",\r\n        "ExpirationDate":  "\\/Date(${ms + 60 * 86_400_000})\\/",\r\n        "sHardwareId":  "${hwidOf(i)}"\r\n    }${last ? '' : ','}\r\n`;
}

function winlogbeatRow(i: number): string {
  const time = new Date(Date.UTC(2024, 5, 1) + i * 1000).toISOString().replace('Z', '0000Z');
  return `${JSON.stringify({
    '@timestamp': time,
    agent: { type: 'winlogbeat', version: '8.14.3' },
    log: { level: 'warning' },
    event: { kind: 'event', code: '20', provider: 'Microsoft-Windows-TerminalServices-Licensing' },
    winlog: {
      channel: 'System',
      provider_name: 'Microsoft-Windows-TerminalServices-Licensing',
      event_id: '20',
      record_id: i,
      computer_name: 'LS01.corp.example',
      api: 'wineventlog',
      user_data: { EventXML: { param1: 'LS01', param2: String(i % 50), param3: 'Windows Server 2019 - RDS Per Device CAL' } },
    },
  })}\n`;
}

function evtxRow(i: number): string {
  const time = new Date(Date.UTC(2024, 5, 1) + i * 1000).toISOString().replace('Z', '0000Z');
  return `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-TerminalServices-Licensing' Guid='{4D99F017-0EB1-4B52-8419-14AEBD13D770}' EventSourceName='TermServLicensing'/><EventID Qualifiers='49152'>20</EventID><Version>0</Version><Level>3</Level><Task>0</Task><Opcode>0</Opcode><Keywords>0x80000000000000</Keywords><TimeCreated SystemTime='${time}'/><EventRecordID>${i}</EventRecordID><Correlation/><Execution ProcessID='1080' ThreadID='2244'/><Channel>System</Channel><Computer>LS01.corp.example</Computer><Security UserID='S-1-5-20'/></System><UserData><EventXML xmlns='Event_NS'><param1>LS01</param1><param2>${i % 50}</param2><param3>Windows Server 2019 - RDS Per Device CAL</param3></EventXML></UserData></Event>`;
}

/** Writes a generated file through a stream, honouring backpressure. */
async function generate(path: string, rows: number, head: string, row: (i: number) => string, tail = ''): Promise<number> {
  const out = createWriteStream(path);
  if (!out.write(head)) await once(out, 'drain');
  let batch = '';
  for (let i = 1; i <= rows; i += 1) {
    batch += row(i);
    if (batch.length > 1 << 16) {
      if (!out.write(batch)) await once(out, 'drain');
      batch = '';
    }
  }
  out.end(batch + tail);
  await once(out, 'finish');
  return (await stat(path)).size;
}

async function measure(name: string, path: string, bytes: number, rows: number, format: InputFormat): Promise<BenchResult> {
  global.gc?.();
  const baseRss = process.memoryUsage.rss();
  let peakRss = baseRss;
  let parsed = 0;
  let rejected = 0;
  const started = process.hrtime.bigint();
  for await (const batch of parseFile(path, { observedTime: '2024-06-14T00:00:00.000Z', format })) {
    for (const item of batch) {
      if (item.kind === 'rejected') rejected += 1;
      else parsed += 1;
      if ((parsed & 0x3fff) === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  if (parsed !== rows || rejected !== 0) throw new Error(`${name}: expected ${rows} parsed rows, got ${parsed} parsed and ${rejected} rejected`);
  return {
    name,
    metrics: {
      rows,
      fileBytes: bytes,
      seconds: Number(seconds.toFixed(2)),
      rowsPerSecond: Math.round(rows / seconds),
      megabytesPerSecond: Number((bytes / 1e6 / seconds).toFixed(1)),
      rssBeforeBytes: baseRss,
      peakRssBytes: peakRss,
      rssGrowthBytes: peakRss - baseRss,
    },
  };
}

export async function runParserBench(options: Partial<ParserBenchOptions> = {}): Promise<BenchResult[]> {
  const { csvRows, jsonRows, ndjsonRows, xmlRows } = { ...DEFAULTS, ...options };
  const dir = await mkdtemp(join(tmpdir(), 'calwatch-parser-bench-'));
  try {
    const results: BenchResult[] = [];
    const csv = join(dir, 'issued-licenses.csv');
    results.push(await measure('ps51-csv-issued-licenses', csv, await generate(csv, csvRows, CSV_HEADER, csvRow), csvRows, 'wmi-issued-licenses'));
    await rm(csv);
    const json = join(dir, 'issued-licenses.json');
    const jsonBytes = await generate(json, jsonRows, '[\r\n', (i) => jsonRow(i, i === jsonRows), ']\r\n');
    results.push(await measure('ps51-json-issued-licenses', json, jsonBytes, jsonRows, 'wmi-issued-licenses'));
    await rm(json);
    const ndjson = join(dir, 'winlogbeat.ndjson');
    results.push(await measure('winlogbeat-ndjson', ndjson, await generate(ndjson, ndjsonRows, '', winlogbeatRow), ndjsonRows, 'winlogbeat'));
    await rm(ndjson);
    const xml = join(dir, 'licensing.xml');
    results.push(await measure('wevtutil-xml', xml, await generate(xml, xmlRows, '', evtxRow), xmlRows, 'evtx-xml'));
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function parseArgs(argv: string[]): Partial<ParserBenchOptions> {
  const options: Partial<ParserBenchOptions> = {};
  const keys: Record<string, keyof ParserBenchOptions> = {
    '--csv-rows': 'csvRows',
    '--json-rows': 'jsonRows',
    '--ndjson-rows': 'ndjsonRows',
    '--xml-rows': 'xmlRows',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = keys[argv[i] ?? ''];
    const value = Number(argv[i + 1]);
    if (key === undefined || !Number.isInteger(value) || value < 1) {
      throw new Error('usage: parsers.bench.ts [--csv-rows N] [--json-rows N] [--ndjson-rows N] [--xml-rows N]');
    }
    options[key] = value;
  }
  return options;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await runParserBench(parseArgs(process.argv.slice(2)));
  const file = join(dirname(fileURLToPath(import.meta.url)), 'results', 'parsers.json');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify({ at: new Date().toISOString(), node: process.version, results }, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}
