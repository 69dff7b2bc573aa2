import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyPackFact, LicenseFact } from '@calwatch/model';
import { SIMULATOR_ERRORS } from './errors';
import { toEvtxXml, toWinlogbeat } from './format-events';
import { ps51Csv, ps7CimCsv, ps7Csv, psJson, type TableFormat, type WmiClass } from './format-wmi';
import { openOutputFile, type OutputFile, type TextEncoding } from './output-file';
import { snapshotEvents, type FleetSimulation, type FleetSnapshot } from './simulate';
import type { GroundTruth } from './truth';

export const OUTPUT_FORMATS = ['ps51-csv', 'ps7-csv', 'ps7-cim-csv', 'json', 'ps7-json', 'winlogbeat', 'evtx-xml', 'canonical'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
export const DEFAULT_OUTPUT_FORMATS: readonly OutputFormat[] = ['ps51-csv', 'winlogbeat'];

export interface WriteFleetOptions {
  outDir: string;
  formats: readonly OutputFormat[];
  gzip?: boolean;
  /** Stops between two snapshots; files written so far are closed and kept. */
  signal?: AbortSignal;
  onSnapshot?: (takenAt: string, written: number) => void;
}

export interface WriteFleetResult {
  outDir: string;
  aborted: boolean;
  snapshots: number;
  serviceEvents: number;
  files: number;
  /** Bytes of text written, before compression. */
  bytes: number;
  /** Undefined when aborted. */
  truth: GroundTruth | undefined;
}

interface SnapshotFormat {
  ext: string;
  encoding: TextEncoding;
  bom: boolean;
  table(cls: WmiClass, server: string): TableFormat<LicenseFact | KeyPackFact>;
}

/** How each snapshot format is written; encodings are each PowerShell's defaults. */
const SNAPSHOT_FORMATS: Partial<Record<OutputFormat, SnapshotFormat>> = {
  'ps51-csv': { ext: 'csv', encoding: 'ascii', bom: false, table: (cls, server) => ps51Csv(cls, { server }) },
  'ps7-csv': { ext: 'csv', encoding: 'utf8', bom: false, table: (cls, server) => ps7Csv(cls, { server }) },
  'ps7-cim-csv': { ext: 'csv', encoding: 'utf8', bom: false, table: (cls, server) => ps7CimCsv(cls, { server }) },
  // Windows PowerShell 5.1 `Out-File` writes UTF-16LE with a BOM.
  json: { ext: 'json', encoding: 'utf16le', bom: true, table: (cls, server) => psJson(cls, { server }, '5.1') },
  'ps7-json': { ext: 'json', encoding: 'utf8', bom: false, table: (cls, server) => psJson(cls, { server }, '7') },
};

/** `2024-06-12T09:30:00.000Z` -> `20240612T093000Z`, the time stamp in file names. */
export function fileStamp(iso: string): string {
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/**
 * Writes what a real license server would give, one folder per format (so a collector
 * can watch one), plus `truth.json`. Streams: one snapshot is in memory at a time.
 */
export async function writeFleet(simulation: FleetSimulation, options: WriteFleetOptions): Promise<WriteFleetResult> {
  const { outDir, formats } = options;
  const gzip = options.gzip === true;
  const gz = gzip ? '.gz' : '';
  await mkdir(outDir, { recursive: true });
  const existing = await readdir(outDir);
  if (existing.length > 0) {
    throw SIMULATOR_ERRORS.create('SIMULATOR_OUTPUT_NOT_EMPTY', `${outDir} is not empty (${existing.length} entries)`, {
      context: { outDir, entries: existing.slice(0, 5) },
    });
  }
  const dirs = new Set<string>(formats);
  if (simulation.config.mix.corrupted.count > 0) dirs.add('client-stores');
  for (const dir of dirs) await mkdir(join(outDir, dir));

  const result: WriteFleetResult = { outDir, aborted: false, snapshots: 0, serviceEvents: 0, files: 0, bytes: 0, truth: undefined };
  const streams: Array<{ render: 'winlogbeat' | 'evtx-xml' | 'canonical'; file: OutputFile }> = [];
  const open = (dir: string, name: string, encoding: TextEncoding, bom = false): OutputFile => {
    result.files += 1;
    return openOutputFile(join(outDir, dir, `${name}${gz}`), { encoding, gzip, bom });
  };
  if (formats.includes('winlogbeat')) streams.push({ render: 'winlogbeat', file: open('winlogbeat', 'licensing-events.ndjson', 'utf8') });
  if (formats.includes('evtx-xml')) streams.push({ render: 'evtx-xml', file: open('evtx-xml', 'licensing-events.xml', 'utf8') });
  if (formats.includes('canonical')) streams.push({ render: 'canonical', file: open('canonical', 'events.ndjson', 'utf8') });
  const source = { kind: 'simulator' as const, ref: `simulator:seed=${simulation.config.seed}` };

  const writeTable = async <Row extends LicenseFact | KeyPackFact>(
    format: SnapshotFormat,
    dir: string,
    name: string,
    cls: WmiClass,
    server: string,
    rows: readonly Row[],
  ): Promise<void> => {
    const file = open(dir, name, format.encoding, format.bom);
    const table = format.table(cls, server);
    const n = rows.length;
    await file.write(table.head(n));
    for (let i = 0; i < n; i += 1) await file.write(table.row(rows[i]!, i, n));
    await file.write(table.tail(n));
    await file.close();
    result.bytes += file.bytes;
  };

  const writeSnapshot = async (snapshot: FleetSnapshot): Promise<void> => {
    const stamp = fileStamp(snapshot.takenAt);
    for (const format of formats) {
      const spec = SNAPSHOT_FORMATS[format];
      if (spec === undefined) continue;
      await writeTable(spec, format, `issued-licenses_${stamp}.${spec.ext}`, 'Win32_TSIssuedLicense', snapshot.licenseServer, snapshot.licenses);
      await writeTable(spec, format, `keypacks_${stamp}.${spec.ext}`, 'Win32_TSLicenseKeyPack', snapshot.licenseServer, snapshot.keyPacks);
    }
    if (snapshot.clientStores.length > 0) {
      const file = open('client-stores', `client-stores_${stamp}.jsonl`, 'utf8');
      for (const store of snapshot.clientStores) {
        await file.write(
          JSON.stringify({
            computer: store.computer.raw,
            hwids: store.hwids.map((h) => h.raw),
            observedTime: snapshot.takenAt,
            licenseServer: snapshot.licenseServer,
          }) + '\n',
        );
      }
      await file.close();
      result.bytes += file.bytes;
    }
    for (const { render, file } of streams) {
      if (render !== 'canonical') continue;
      for (const event of snapshotEvents(snapshot, source)) await file.write(JSON.stringify(event) + '\n');
    }
  };

  try {
    for (const item of simulation.items()) {
      if (item.kind === 'snapshot') {
        await writeSnapshot(item.snapshot);
        result.snapshots += 1;
        options.onSnapshot?.(item.snapshot.takenAt, result.snapshots);
        if (options.signal?.aborted === true) {
          result.aborted = true;
          break;
        }
        continue;
      }
      const event = item.event;
      if (event.type === 'service.event') result.serviceEvents += 1;
      for (const { render, file } of streams) {
        if (render === 'canonical') await file.write(JSON.stringify(event) + '\n');
        else if (event.type === 'service.event') {
          await file.write((render === 'winlogbeat' ? toWinlogbeat(event) + '\n' : toEvtxXml(event) + '\r\n'));
        }
      }
    }
  } finally {
    for (const { file } of streams) {
      await file.close();
      result.bytes += file.bytes;
    }
  }
  if (!result.aborted) {
    result.truth = simulation.truth();
    const text = JSON.stringify(result.truth, null, 2) + '\n';
    await writeFile(join(outDir, 'truth.json'), text);
    result.files += 1;
    result.bytes += text.length;
  }
  return result;
}
