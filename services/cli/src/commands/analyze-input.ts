import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { type KeyPackSnapshot, type Rejection, type TableSnapshot, LicenseTable, type SnapshotTimeSource, SnapshotTimeBoundsBuilder, buildKeyPackEvents, chooseSnapshotTime, diffTables, parseFile, snapshotTimeFromName } from '@calwatch/ingest';
import { type CanonicalEvent, type KeyPackFact } from '@calwatch/model';
import { EventLog } from './analyze-events';

/** Where a file's snapshot time came from (see docs/detection.md, "analyze"). */
export type { SnapshotTimeSource } from '@calwatch/ingest';
export { snapshotTimeFromName } from '@calwatch/ingest';

export interface InputFile {
  path: string;
  /** As the user wrote it (or as found under a directory they named). */
  display: string;
  /** Named on the command line (not found by walking a directory). */
  explicit: boolean;
  snapshotTime: string;
  snapshotTimeFrom: SnapshotTimeSource;
  /** Why the snapshot time is not the file's mtime although nothing else gave one (see chooseSnapshotTime). */
  snapshotTimeWarning?: string;
}

export class InputError extends Error {}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return error instanceof Error ? error.message : String(error);
}

/**
 * Expands the paths named on the command line into readable files (directories walked,
 * hidden entries skipped, sorted) and gives each its snapshot time. Throws InputError
 * with a message naming the path when something cannot be read.
 */
export async function listInputs(paths: readonly string[], options: { cwd: string; snapshotTime?: string }): Promise<InputFile[]> {
  const files: InputFile[] = [];
  const visit = async (path: string, display: string, explicit: boolean): Promise<void> => {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      throw new InputError(`cannot read ${display}: ${describe(error)}`);
    }
    if (info.isDirectory()) {
      let entries;
      try {
        entries = await readdir(path);
      } catch (error) {
        throw new InputError(`cannot read directory ${display}: ${describe(error)}`);
      }
      for (const entry of entries.filter((e) => !e.startsWith('.')).sort()) {
        await visit(join(path, entry), join(display, entry), false);
      }
      return;
    }
    if (!info.isFile()) {
      if (explicit) throw new InputError(`cannot read ${display}: not a regular file`);
      return;
    }
    try {
      await access(path, constants.R_OK);
    } catch (error) {
      throw new InputError(`cannot read ${display}: ${describe(error)}`);
    }
    const fromName = snapshotTimeFromName(basename(path));
    const [snapshotTime, snapshotTimeFrom]: [string, SnapshotTimeSource] =
      options.snapshotTime !== undefined
        ? [options.snapshotTime, 'option']
        : fromName !== undefined
          ? [fromName, 'name']
          : [new Date(Math.floor(info.mtimeMs)).toISOString(), 'mtime'];
    files.push({ path, display, explicit, snapshotTime, snapshotTimeFrom });
  };
  for (const path of paths) await visit(resolve(options.cwd, path), path, true);
  return files;
}

/** Rejected records of one file: counted by code, with the first few of each code kept. */
export interface RejectionTally {
  total: number;
  /** Rejections of a record (a row); the rest concern the file as a whole. */
  records: number;
  byCode: Map<string, { count: number; examples: Rejection[] }>;
}

/** Examples kept per rejection code and file (the report shows three in all). */
const REJECTION_EXAMPLES = 3;

function tally(into: RejectionTally, rejection: Rejection): void {
  into.total++;
  if (rejection.record !== null) into.records++;
  let entry = into.byCode.get(rejection.code);
  if (entry === undefined) into.byCode.set(rejection.code, (entry = { count: 0, examples: [] }));
  entry.count++;
  if (entry.examples.length < REJECTION_EXAMPLES) entry.examples.push(rejection);
}

export interface FileReport {
  file: InputFile;
  /** Rows and records read, parsed or rejected. */
  records: number;
  rejected: RejectionTally;
  /** What the file held: wmi-issued-licenses, wmi-keypacks, or the source kinds of events. */
  kinds: string[];
  licenseServers: string[];
  unknownFormat: boolean;
  /** The license tables the export held: one per license server, with its row count. */
  issued: { licenseServer: string; rows: number }[];
  keyPacks: KeyPackSnapshot[];
  events: CanonicalEvent[];
}

/** A file read: what to report about it, and its license tables for the diff. */
export interface ReadInput {
  report: FileReport;
  snapshots: TableSnapshot[];
}

/**
 * Reads one file. Rows of a license export go straight into a compact table per license
 * server (a snapshot is the whole table, so it is held, but not as objects); events are kept
 * for sorting; rejected records are counted, with a few examples.
 */
export async function readInput(
  file: InputFile,
  options: { licenseServer?: string; onRecords?: (records: number) => void },
): Promise<ReadInput> {
  const kinds = new Set<string>();
  const tables = new Map<string, LicenseTable>();
  const keyPacks = new Map<string, KeyPackFact[]>();
  const events: CanonicalEvent[] = [];
  const rejected: RejectionTally = { total: 0, records: 0, byCode: new Map() };
  let records = 0;
  let seen = 0;
  const parseOptions = {
    observedTime: file.snapshotTime,
    ref: file.display,
    ...(options.licenseServer === undefined ? {} : { licenseServer: options.licenseServer }),
  };
  try {
    for await (const batch of parseFile(file.path, parseOptions)) {
      for (const item of batch) {
        switch (item.kind) {
          case 'issued-license': {
            kinds.add('wmi-issued-licenses');
            records++;
            let table = tables.get(item.licenseServer);
            if (table === undefined) tables.set(item.licenseServer, (table = new LicenseTable()));
            table.add(item.license);
            break;
          }
          case 'keypack': {
            kinds.add('wmi-keypacks');
            records++;
            const list = keyPacks.get(item.licenseServer);
            if (list === undefined) keyPacks.set(item.licenseServer, [item.keyPack]);
            else list.push(item.keyPack);
            break;
          }
          case 'event':
            kinds.add(item.event.source.kind);
            events.push(item.event);
            break;
          case 'rejected':
            if (item.rejection.record !== null) records++;
            tally(rejected, item.rejection);
            break;
        }
        seen++;
        if (seen % 10_000 === 0) options.onRecords?.(seen);
      }
    }
  } catch (error) {
    throw new InputError(`cannot read ${file.display}: ${describe(error)}`);
  }
  for (const table of tables.values()) table.trim();
  const timed = boundedByData(file, tables);
  const takenAt = timed.snapshotTime;
  const servers = new Set<string>([...tables.keys(), ...keyPacks.keys()]);
  for (const event of events) servers.add(event.licenseServer);
  const report: FileReport = {
    file: timed,
    records: records + events.length,
    rejected,
    kinds: [...kinds].sort(),
    licenseServers: [...servers].sort(),
    unknownFormat: rejected.byCode.has('INGEST_UNKNOWN_FORMAT'),
    issued: [...tables].map(([licenseServer, table]) => ({ licenseServer, rows: table.size })),
    keyPacks: [...keyPacks].map(([licenseServer, list]) => ({
      licenseServer,
      takenAt,
      keyPacks: list,
      source: { kind: 'wmi-keypacks' as const, ref: file.display },
    })),
    events,
  };
  const snapshots = [...tables].map(([licenseServer, table]) => ({
    licenseServer,
    takenAt,
    table,
    source: { kind: 'wmi-issued-licenses' as const, ref: file.display },
  }));
  return { report, snapshots };
}

/**
 * A snapshot time taken from the mtime is kept within what the export's licenses prove
 * (see chooseSnapshotTime): a copy's mtime is when it was copied, not when it was taken.
 */
function boundedByData(file: InputFile, tables: ReadonlyMap<string, LicenseTable>): InputFile {
  if (file.snapshotTimeFrom !== 'mtime' || tables.size === 0) return file;
  const bounds = new SnapshotTimeBoundsBuilder();
  for (const table of tables.values()) for (let row = 0; row < table.size; row++) bounds.add(table.status(row), table.issuedMs(row), table.expiresMs(row));
  const chosen = chooseSnapshotTime({ guessMs: Date.parse(file.snapshotTime), guessFrom: 'mtime', bounds: bounds.bounds(), display: file.display });
  if (chosen.warning === null) return file;
  return { ...file, snapshotTime: chosen.time, snapshotTimeFrom: chosen.from, snapshotTimeWarning: `${chosen.warning} (give --snapshot-time or a time stamp in the file name to set it)` };
}

/** The order in which files are read: snapshot time, then path (the order of their diffs). */
export function readingOrder(files: readonly InputFile[]): InputFile[] {
  return [...files].sort((a, b) => Date.parse(a.snapshotTime) - Date.parse(b.snapshotTime) || a.path.localeCompare(b.path));
}

export interface BuiltEvents {
  log: EventLog;
  /** Snapshots not newer than the previous one of their server: not diffed. */
  stale: { file: string; licenseServer: string; takenAt: string }[];
  /** Later snapshots with rejected rows: a missing row reads as a returned license. */
  incomplete: { file: string; licenseServer: string; rejected: number }[];
}

type Noted<T> = T & { order: { licenseServer: string; takenAt: string; path: string } };

/**
 * Turns what the files held into one event stream: successive snapshots of each server
 * are diffed in snapshot-time order (ties broken by path), key pack snapshots become
 * inventory events, and events are taken as they are; duplicates (same eventId) are kept once.
 * Files are added as they are read, in readingOrder: each snapshot is diffed at once against
 * the previous one of its server, the only one kept, so memory is bounded by the largest
 * export plus the events, not by the number of exports.
 */
export class EventBuilder {
  private readonly log = new EventLog();
  private readonly previous = new Map<string, TableSnapshot>();
  private readonly stale: Noted<BuiltEvents['stale'][number]>[] = [];
  private readonly incomplete: Noted<BuiltEvents['incomplete'][number]>[] = [];

  add({ report, snapshots }: ReadInput): void {
    for (const snapshot of snapshots) {
      const order = { licenseServer: snapshot.licenseServer, takenAt: snapshot.takenAt, path: report.file.path };
      const before = this.previous.get(snapshot.licenseServer);
      if (before !== undefined && Date.parse(snapshot.takenAt) < Date.parse(before.takenAt)) {
        throw new Error(`EventBuilder: ${report.file.display} added out of snapshot-time order`);
      }
      const diff = diffTables(before, snapshot);
      if (diff.stale) {
        this.stale.push({ file: report.file.display, licenseServer: snapshot.licenseServer, takenAt: snapshot.takenAt, order });
        continue;
      }
      if (before !== undefined && report.rejected.records > 0) {
        this.incomplete.push({ file: report.file.display, licenseServer: snapshot.licenseServer, rejected: report.rejected.records, order });
      }
      this.previous.set(snapshot.licenseServer, snapshot);
      this.log.add(diff.events);
    }
  }

  /** The stream, once every file was added; `reports` in the order the files were named. */
  finish(reports: readonly FileReport[]): BuiltEvents {
    this.previous.clear();
    for (const report of reports) {
      for (const snap of report.keyPacks) this.log.add(buildKeyPackEvents(snap.licenseServer, snap.takenAt, snap.keyPacks, snap.source));
      this.log.add(report.events);
    }
    // Notes in the order the snapshots were diffed per server, servers by name.
    const byServer = (a: { order: Noted<object>['order'] }, b: { order: Noted<object>['order'] }) =>
      a.order.licenseServer.localeCompare(b.order.licenseServer) ||
      Date.parse(a.order.takenAt) - Date.parse(b.order.takenAt) ||
      a.order.path.localeCompare(b.order.path);
    return {
      log: this.log,
      stale: this.stale.sort(byServer).map(({ order: _, ...entry }) => entry),
      incomplete: this.incomplete.sort(byServer).map(({ order: _, ...entry }) => entry),
    };
  }
}
