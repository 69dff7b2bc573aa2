/**
 * Detection core and `calwatch analyze`:
 *  - analyze-100k: a 100,000-row Windows PowerShell 5.1 Export-Csv of Win32_TSIssuedLicense
 *    (plus a key pack export) written to a temporary directory and run through
 *    `calwatch analyze --format json`, end to end, in process;
 *  - core-throughput: the same rows as canonical events through the in-process pipeline
 *    alone, on one core (events per second), with the memory each tracked HWID costs
 *    (heap, and the JSON a changelog record of its state would take).
 * The fleet mixes healthy devices with cloned images, churning VDI names, rebuilt devices,
 * duplicate names and temporaries, so every stage does real work.
 *
 *   npx tsx bench/core.bench.ts [--rows N]     (writes bench/results/core.json)
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { collectSnapshots, diffSnapshot, buildKeyPackEvents, parseFile } from '@calwatch/ingest';
import { type CanonicalEvent } from '@calwatch/model';
import { simulateFleet } from '@calwatch/simulator';
import { COMMANDS } from '@calwatch/cli';
import { createPipeline, parseCoreConfig } from '@calwatch/processor';
import { createSeededRandom } from '@calwatch/processor/testing';
import { writeBenchResults } from './results-file';
import type { BenchResult } from './run';

const DAY = 86_400_000;
const AS_OF = Date.UTC(2024, 5, 12);
const SERVER = 'LS01';

export interface ExportRow {
  licenseId: number;
  keyPackId: number;
  status: 1 | 2;
  hwid: string;
  computer: string;
  issuedAt: number;
  expiresAt: number;
}

const hex = (n: number) => `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
/** The five 32-bit words of a CLIENT_HARDWARE_ID as `sHardwareId` renders them. */
export const hwidOf = (a: number, b: number) => `0x00000002, ${hex(a)}, ${hex(b)}, 0x5E6F7081, 0xD6E7F809`;

/** WMI DATETIME in UTC: `yyyymmddHHMMSS.mmmmmm+000`. */
export function dmtf(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}.000000+000`;
}

export const ISSUED_HEADER =
  '#TYPE System.Management.ManagementObject#root\\cimv2\\Win32_TSIssuedLicense\r\n' +
  '"PSComputerName","__GENUS","__CLASS","__SUPERCLASS","__DYNASTY","__RELPATH","__PROPERTY_COUNT","__DERIVATION","__SERVER","__NAMESPACE","__PATH","ExpirationDate","IssueDate","KeyPackId","LicenseId","LicenseStatus","sHardwareId","sIssuedToComputer","sIssuedToUser","Scope","Path","Options","ClassPath","Properties","SystemProperties","Qualifiers","Site","Container"\r\n';

/** One Export-Csv row of Win32_TSIssuedLicense as Windows PowerShell 5.1 writes it. */
export function issuedRow(row: ExportRow, server = SERVER): string {
  const rel = `Win32_TSIssuedLicense.KeyPackId=${row.keyPackId},LicenseId=${row.licenseId}`;
  const path = `\\\\${server}\\root\\cimv2:${rel}`;
  return (
    `"${server}","2","Win32_TSIssuedLicense",,"Win32_TSIssuedLicense","${rel}","8","System.String[]","${server}","root\\cimv2","${path}",` +
    `"${dmtf(row.expiresAt)}","${dmtf(row.issuedAt)}","${row.keyPackId}","${row.licenseId}","${row.status}","${row.hwid}","${row.computer}","CORP\\user${row.licenseId % 977}",` +
    `"System.Management.ManagementScope","${path}","System.Management.ObjectGetOptions","\\\\${server}\\root\\cimv2:Win32_TSIssuedLicense",` +
    `"System.Management.PropertyDataCollection","System.Management.PropertyDataCollection","System.Management.QualifierDataCollection",,\r\n`
  );
}

export interface KeyPackRow {
  keyPackId: number;
  keyPackType: number;
  productVersion: string;
  typeAndModel: string;
  total: number;
  available: number;
}

export function keyPackCsv(rows: readonly KeyPackRow[], server = SERVER): string {
  const head =
    '#TYPE System.Management.ManagementObject#root\\cimv2\\Win32_TSLicenseKeyPack\r\n' +
    '"PSComputerName","__GENUS","__CLASS","__SUPERCLASS","__DYNASTY","__RELPATH","__PROPERTY_COUNT","__DERIVATION","__SERVER","__NAMESPACE","__PATH","AccessRights","AvailableLicenses","Description","ExpirationDate","IssuedLicenses","KeyPackId","KeyPackType","ProductType","ProductVersion","ProductVersionID","TotalLicenses","TypeAndModel","Scope","Path","Options","ClassPath","Properties","SystemProperties","Qualifiers","Site","Container"\r\n';
  return (
    head +
    rows
      .map((k) => {
        const rel = `Win32_TSLicenseKeyPack.KeyPackId=${k.keyPackId}`;
        const path = `\\\\${server}\\root\\cimv2:${rel}`;
        return (
          `"${server}","2","Win32_TSLicenseKeyPack",,"Win32_TSLicenseKeyPack","${rel}","12","System.String[]","${server}","root\\cimv2","${path}",` +
          `"1","${k.available}","${k.typeAndModel}",,"${k.total - k.available}","${k.keyPackId}","${k.keyPackType}","0","${k.productVersion}","6","${k.total}","${k.typeAndModel}",` +
          `"System.Management.ManagementScope","${path}","System.Management.ObjectGetOptions","\\\\${server}\\root\\cimv2:Win32_TSLicenseKeyPack",` +
          `"System.Management.PropertyDataCollection","System.Management.PropertyDataCollection","System.Management.QualifierDataCollection",,\r\n`
        );
      })
      .join('')
  );
}

/**
 * A license table of `rows` rows as of AS_OF: about 3.5 % cloned images (4 clones ping-
 * ponging one HWID), 4 % churning VDI names, 3 % rebuilt devices, 0.4 % duplicate names,
 * 5 % temporaries, the rest healthy devices with one renewing CAL each.
 */
export function* fleetRows(rows: number, seed = 7): Generator<ExportRow> {
  const rnd = createSeededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  let licenseId = 1000;
  let emitted = 0;
  let device = 0;
  const take = (row: Omit<ExportRow, 'licenseId' | 'keyPackId'>): ExportRow => {
    emitted++;
    return { ...row, licenseId: licenseId++, keyPackId: row.status === 1 ? 2 : 3 };
  };
  const permanent = (issuedAt: number) => issuedAt + int(52, 89) * DAY;
  const scaled = (share: number) => Math.floor(rows * share);

  for (let image = 0; image < scaled(0.035) / 12; image++) {
    const hwid = hwidOf(0xc0000000 + image, image);
    const names = [0, 1, 2, 3].map((k) => `WS-C${String(image).padStart(4, '0')}-${k}`);
    for (let i = 0; i < 12; i++) {
      const issuedAt = AS_OF - (40 - i * 3) * DAY - int(0, 20) * 3_600_000;
      yield take({ status: 2, hwid, computer: names[i % 4]!, issuedAt, expiresAt: permanent(issuedAt) });
    }
  }
  for (let vdi = 0; vdi < scaled(0.04) / 16; vdi++) {
    const computer = `VDI-${String(vdi).padStart(4, '0')}`;
    for (let i = 0; i < 16; i++) {
      const issuedAt = AS_OF - (32 - i * 2) * DAY + int(0, 8) * 3_600_000;
      yield take({ status: 2, hwid: hwidOf(0xd0000000 + vdi * 64 + i, vdi), computer, issuedAt, expiresAt: permanent(issuedAt) });
    }
  }
  for (let r = 0; r < scaled(0.03) / 2; r++) {
    const computer = `PC-R${String(r).padStart(5, '0')}`;
    const oldIssued = AS_OF - int(40, 50) * DAY;
    yield take({ status: 2, hwid: hwidOf(0xe0000000 + r, 1), computer, issuedAt: oldIssued, expiresAt: oldIssued + 89 * DAY });
    const newIssued = AS_OF - int(5, 30) * DAY;
    yield take({ status: 2, hwid: hwidOf(0xe0000000 + r, 2), computer, issuedAt: newIssued, expiresAt: permanent(newIssued) });
  }
  for (let d = 0; d < scaled(0.004) / 2; d++) {
    const computer = `PC-D${String(d).padStart(5, '0')}`;
    for (const k of [1, 2]) {
      const issuedAt = AS_OF - int(120, 200) * DAY;
      yield take({ status: 2, hwid: hwidOf(0xf0000000 + d, k), computer, issuedAt, expiresAt: AS_OF + int(20, 80) * DAY });
    }
  }
  for (let t = 0; t < scaled(0.05); t++) {
    const issuedAt = AS_OF - int(1, 80) * DAY;
    yield take({ status: 1, hwid: hwidOf(0xa0000000 + t, 3), computer: `KIOSK-${String(t).padStart(6, '0')}`, issuedAt, expiresAt: issuedAt + 90 * DAY });
  }
  while (emitted < rows) {
    const issuedAt = AS_OF - int(1, 300) * DAY;
    const expiresAt = issuedAt + 89 * DAY > AS_OF ? permanent(issuedAt) : AS_OF + int(1, 85) * DAY;
    device++;
    yield take({ status: 2, hwid: hwidOf(0x10000000 + device, 4), computer: `PC-${String(device).padStart(6, '0')}`, issuedAt, expiresAt });
  }
}

/**
 * A license table shaped like a real export's worst corners: cloned images whose one HWID
 * was reissued thousands of times across a handful of names, and churning VDI names with
 * thousands of HWIDs each (about a quarter of the rows each), the rest healthy devices.
 * Per-event work that grows with a chain's length shows up here as a collapse in rate.
 */
export function* longChainRows(rows: number, seed = 11): Generator<ExportRow> {
  const rnd = createSeededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const perChain = 2_500;
  const chains = Math.max(1, Math.floor(rows / 4 / perChain));
  let licenseId = 500_000;
  let emitted = 0;
  const take = (row: Omit<ExportRow, 'licenseId' | 'keyPackId'>): ExportRow => {
    emitted++;
    return { ...row, licenseId: licenseId++, keyPackId: row.status === 1 ? 2 : 3 };
  };
  for (let image = 0; image < chains; image++) {
    const hwid = hwidOf(0xb0000000 + image, image);
    const names = Array.from({ length: 6 }, (_, k) => `GOLD-${String(image).padStart(3, '0')}-${k}`);
    for (let i = 0; i < perChain; i++) {
      const issuedAt = AS_OF - 88 * DAY + Math.floor((i * 87 * DAY) / perChain) + int(0, 3_600_000);
      yield take({ status: 2, hwid, computer: names[int(0, names.length - 1)]!, issuedAt, expiresAt: issuedAt + int(52, 89) * DAY });
    }
  }
  for (let vdi = 0; vdi < chains; vdi++) {
    const computer = `POOL-VDI-${String(vdi).padStart(3, '0')}`;
    for (let i = 0; i < perChain; i++) {
      const issuedAt = AS_OF - 88 * DAY + Math.floor((i * 87 * DAY) / perChain) + int(0, 3_600_000);
      yield take({ status: 2, hwid: hwidOf(0x90000000 + vdi * 8192 + i, vdi), computer, issuedAt, expiresAt: issuedAt + int(52, 89) * DAY });
    }
  }
  for (let device = 1; emitted < rows; device++) {
    const issuedAt = AS_OF - int(1, 80) * DAY;
    yield take({ status: 2, hwid: hwidOf(0x20000000 + device, 5), computer: `LT-${String(device).padStart(6, '0')}`, issuedAt, expiresAt: issuedAt + 89 * DAY });
  }
}

export async function writeFleetExport(
  dir: string,
  rows: number,
  source: Iterable<ExportRow> = fleetRows(rows),
): Promise<{ issued: string; keyPacks: string; bytes: number }> {
  const stamp = '20240612T000000Z';
  const issued = join(dir, `issued-licenses_${stamp}.csv`);
  const out = createWriteStream(issued, { encoding: 'latin1' });
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(ISSUED_HEADER);
  let buffer = '';
  let permanents = 0;
  for (const row of source) {
    if (row.status === 2) permanents++;
    buffer += issuedRow(row);
    if (buffer.length > 1 << 20) {
      await write(buffer);
      buffer = '';
    }
  }
  await write(buffer);
  out.end();
  await once(out, 'finish');
  const keyPacks = join(dir, `keypacks_${stamp}.csv`);
  const installed = Math.ceil(permanents * 1.02);
  await writeFile(
    keyPacks,
    keyPackCsv([
      { keyPackId: 2, keyPackType: 4, productVersion: 'Windows Server 2019', typeAndModel: 'Built-in TS Per Device Cal', total: 4294967295, available: 4294967295 },
      { keyPackId: 3, keyPackType: 2, productVersion: 'Windows Server 2019', typeAndModel: 'RDS Per Device CAL', total: installed, available: installed - permanents },
    ]),
    'latin1',
  );
  return { issued, keyPacks, bytes: (await stat(issued)).size };
}

class Sink extends Writable {
  bytes = 0;
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.bytes += chunk.length;
    done();
  }
}

function peakRss(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 25);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

async function analyzeBench(dir: string, rows: number): Promise<BenchResult> {
  const written = await writeFleetExport(dir, rows);
  const { command } = await COMMANDS.analyze!();
  const stdout = new Sink();
  const stderr = new Sink();
  const rssBefore = process.memoryUsage().rss;
  const rss = peakRss();
  const started = performance.now();
  const code = await command.run([dir, '--format', 'json'], {
    stdout,
    stderr,
    env: {},
    cwd: dir,
    signal: new AbortController().signal,
  });
  const seconds = (performance.now() - started) / 1000;
  const peak = rss.stop();
  if (code !== 0) throw new Error(`analyze exited ${code}`);
  return {
    name: 'analyze-100k',
    metrics: {
      rows,
      fileBytes: written.bytes,
      seconds: round(seconds, 2),
      rowsPerSecond: Math.round(rows / seconds),
      outputBytes: stdout.bytes,
      rssBeforeBytes: rssBefore,
      peakRssBytes: peak,
    },
    notes: 'calwatch analyze <dir> --format json on one PS 5.1 Export-Csv snapshot + key pack export, end to end (parse, diff, detect, report)',
  };
}

export async function loadEvents(dir: string): Promise<CanonicalEvent[]> {
  const takenAt = new Date(AS_OF).toISOString();
  const issued = await collectSnapshots(parseFile(join(dir, 'issued-licenses_20240612T000000Z.csv'), { observedTime: takenAt }), {
    takenAt,
    source: { kind: 'wmi-issued-licenses', ref: 'bench' },
  });
  const keyPacks = await collectSnapshots(parseFile(join(dir, 'keypacks_20240612T000000Z.csv'), { observedTime: takenAt }), {
    takenAt,
    source: { kind: 'wmi-keypacks', ref: 'bench' },
  });
  const events: CanonicalEvent[] = [];
  for (const snap of keyPacks.keyPacks) for (const e of buildKeyPackEvents(snap.licenseServer, snap.takenAt, snap.keyPacks, snap.source)) events.push(e);
  for (const snap of issued.issued) for (const e of diffSnapshot(undefined, snap).events) events.push(e);
  return events.sort((a, b) => (a.eventTime < b.eventTime ? -1 : a.eventTime > b.eventTime ? 1 : a.eventId < b.eventId ? -1 : 1));
}

async function coreBench(dir: string, rows: number): Promise<BenchResult> {
  const events = await loadEvents(dir);
  return measureCore(
    'core-throughput',
    events,
    AS_OF,
    { rows },
    'first-snapshot events of the same export through createPipeline on one core (no parsing); heap per HWID includes the ' +
      'by-computer and by-server state it causes',
  );
}

/** The long-chain export (cloned images and VDI names with thousands of licenses each). */
async function longChainBench(dir: string, rows: number): Promise<BenchResult> {
  await writeFleetExport(dir, rows, longChainRows(rows));
  const events = await loadEvents(dir);
  return measureCore(
    'core-long-chains',
    events,
    AS_OF,
    { rows },
    'first-snapshot events of an export where cloned images reissued one HWID 2,500 times across 6 names and VDI names ' +
      'presented 2,500 HWIDs each (a quarter of the rows each), through createPipeline on one core',
  );
}

/** The simulator's fleet streamed as events (lifecycle, service events, weekly key packs and stores). */
async function simulatorBench(devices: number, days: number): Promise<BenchResult> {
  const simulation = simulateFleet({ devices, days, seed: 42, snapshotIntervalMs: 7 * DAY });
  const events = [...simulation.events()];
  const end = Date.parse(simulation.config.start) + days * DAY;
  return measureCore(
    'core-simulator',
    events,
    end,
    { devices, days },
    `the simulator's ${devices} devices over ${days} days (default mix, seed 42) as canonical events through createPipeline on one core`,
  );
}

/**
 * Applies `events` on one core and measures the run. It takes the array over (and empties it):
 * the memory a tracked HWID costs is what the pipeline alone keeps alive once the input is gone
 * (heap with the pipeline, minus heap without it), so the HWID and id strings its state shares
 * with the events count, as they do in a service that parsed those events from Kafka.
 */
export async function measureCore(
  name: string,
  events: CanonicalEvent[],
  asOf: number,
  size: Record<string, number>,
  notes: string,
): Promise<BenchResult> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const eventCount = events.length;
  // The pipeline lives only in runOnce's frame: once it returns, nothing can hold it.
  const run = runOnce(events, asOf, gc);
  gc?.();
  const heapWithout = process.memoryUsage().heapUsed;
  const { seconds, cpuSeconds, stats, updates, findings, hwidStateBytes } = run;
  const byKind: Record<string, number> = {};
  for (const f of findings) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
  return {
    name,
    metrics: {
      ...size,
      events: eventCount,
      seconds: round(seconds, 2),
      eventsPerSecond: Math.round(eventCount / seconds),
      cpuSeconds: round(cpuSeconds, 2),
      eventsPerCpuSecond: Math.round(eventCount / cpuSeconds),
      findingUpdates: updates,
      openFindings: findings.length,
      trackedHwids: stats.keys.byHwid,
      trackedComputers: stats.keys.byComputer,
      heapBytesPerHwid: Math.round((run.heapWithPipeline - heapWithout) / stats.keys.byHwid),
      stateJsonBytesPerHwid: Math.round(hwidStateBytes / stats.keys.byHwid),
      openByKind: JSON.stringify(byKind),
    },
    notes: notes + (gc === undefined ? ' (heap approximate: run node with --expose-gc for a clean figure)' : ''),
  };
}

function runOnce(events: CanonicalEvent[], asOf: number, gc: (() => void) | undefined) {
  let updates = 0;
  const pipeline = createPipeline(parseCoreConfig({}), { onFinding: () => updates++ });
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  for (const event of events) pipeline.apply(event);
  pipeline.advanceTo(asOf);
  pipeline.flush();
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  events.length = 0;
  gc?.();
  return {
    seconds,
    // On a shared machine wall time includes waiting for a core; CPU time is what the run cost.
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    heapWithPipeline: process.memoryUsage().heapUsed,
    updates,
    stats: pipeline.stats(),
    findings: pipeline.findings().filter((f) => f.state === 'open'),
    hwidStateBytes: Buffer.byteLength(JSON.stringify(pipeline.snapshot().byHwid)),
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export async function runCoreBench(options: { rows?: number; devices?: number; days?: number } = {}): Promise<BenchResult[]> {
  const rows = options.rows ?? 100_000;
  const dir = await mkdtemp(join(tmpdir(), 'calwatch-core-bench-'));
  try {
    const analyze = await analyzeBench(dir, rows);
    const core = await coreBench(dir, rows);
    const longChains = await longChainBench(dir, rows);
    const simulator = await simulatorBench(options.devices ?? 100_000, options.days ?? 90);
    return [analyze, core, longChains, simulator];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--rows');
  const rows = at > 0 ? Number(process.argv[at + 1]) : undefined;
  const results = await runCoreBench(rows === undefined ? {} : { rows });
  await writeBenchResults('core', results);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}
