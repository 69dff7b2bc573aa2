import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import {
  type CanonicalEvent,
  type KeyPackSnapshot,
  type ParsedItem,
  type Rejection,
  type Snapshot,
  type SnapshotState,
  buildKeyPackEvents,
  collectSnapshots,
  diffSnapshot,
  parseFile,
} from '@calwatch/shared';

/** Where a file's snapshot time came from (see docs/detection.md, "analyze"). */
export type SnapshotTimeSource = 'option' | 'name' | 'mtime';

export interface InputFile {
  path: string;
  /** As the user wrote it (or as found under a directory they named). */
  display: string;
  /** Named on the command line (not found by walking a directory). */
  explicit: boolean;
  snapshotTime: string;
  snapshotTimeFrom: SnapshotTimeSource;
}

export class InputError extends Error {}

/**
 * Time stamps recognised in file names, UTC: `20240612T093000Z` (what the simulator and
 * the collector scripts write), `2024-06-12T09-30-00Z`, `2024-06-12T09:30:00Z`,
 * `20240612-093000`, `2024-06-12_0930`, and a bare `2024-06-12` / `20240612` (midnight).
 */
const NAME_STAMPS: readonly { pattern: RegExp; toIso: (m: RegExpExecArray) => string }[] = [
  {
    pattern: /(\d{4})-?(\d{2})-?(\d{2})[T_ -]?(\d{2})[:-]?(\d{2})(?:[:-]?(\d{2}))?Z?(?!\d)/,
    toIso: (m) => `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}.000Z`,
  },
  { pattern: /(\d{4})-?(\d{2})-?(\d{2})(?!\d)/, toIso: (m) => `${m[1]}-${m[2]}-${m[3]}T00:00:00.000Z` },
];

export function snapshotTimeFromName(name: string): string | undefined {
  for (const { pattern, toIso } of NAME_STAMPS) {
    const match = pattern.exec(name);
    if (match === null) continue;
    const iso = toIso(match);
    const ms = Date.parse(iso);
    // A run of digits that is not a real date (e.g. a license id) is not a time stamp.
    if (!Number.isNaN(ms) && new Date(ms).toISOString() === iso) return iso;
  }
  return undefined;
}

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

export interface FileReport {
  file: InputFile;
  /** Rows and records read, parsed or rejected. */
  records: number;
  rejections: Rejection[];
  /** What the file held: wmi-issued-licenses, wmi-keypacks, or the source kinds of events. */
  kinds: string[];
  licenseServers: string[];
  unknownFormat: boolean;
  issued: Snapshot[];
  keyPacks: KeyPackSnapshot[];
  events: CanonicalEvent[];
}

/** Reads one file in full (one snapshot is held in memory; events are kept for sorting). */
export async function readInput(
  file: InputFile,
  options: { licenseServer?: string; onRecords?: (records: number) => void },
): Promise<FileReport> {
  const kinds = new Set<string>();
  let seen = 0;
  async function* observed(items: AsyncIterable<ParsedItem>): AsyncGenerator<ParsedItem> {
    for await (const item of items) {
      if (item.kind === 'issued-license') kinds.add('wmi-issued-licenses');
      else if (item.kind === 'keypack') kinds.add('wmi-keypacks');
      else if (item.kind === 'event') kinds.add(item.event.source.kind);
      seen++;
      if (seen % 10_000 === 0) options.onRecords?.(seen);
      yield item;
    }
  }
  const parseOptions = {
    observedTime: file.snapshotTime,
    ref: file.display,
    ...(options.licenseServer === undefined ? {} : { licenseServer: options.licenseServer }),
  };
  let collected;
  try {
    collected = await collectSnapshots(observed(parseFile(file.path, parseOptions)), {
      takenAt: file.snapshotTime,
      source: { kind: 'wmi-issued-licenses', ref: file.display },
    });
  } catch (error) {
    throw new InputError(`cannot read ${file.display}: ${describe(error)}`);
  }
  const unknownFormat = collected.rejections.some((r) => r.code === 'INGEST_UNKNOWN_FORMAT');
  const servers = new Set<string>([
    ...collected.issued.map((s) => s.licenseServer),
    ...collected.keyPacks.map((s) => s.licenseServer),
    ...collected.events.map((e) => e.licenseServer),
  ]);
  return {
    file,
    records: collected.records + collected.events.length,
    rejections: collected.rejections,
    kinds: [...kinds].sort(),
    licenseServers: [...servers].sort(),
    unknownFormat,
    issued: collected.issued,
    keyPacks: collected.keyPacks.map((s) => ({ ...s, source: { kind: 'wmi-keypacks' as const, ref: file.display } })),
    events: collected.events,
  };
}

export interface BuiltEvents {
  events: CanonicalEvent[];
  /** Snapshots not newer than the previous one of their server: not diffed. */
  stale: { file: string; licenseServer: string; takenAt: string }[];
  /** Later snapshots with rejected rows: a missing row reads as a returned license. */
  incomplete: { file: string; licenseServer: string; rejected: number }[];
}

/**
 * Turns what the files held into one event stream: successive snapshots of each server
 * are diffed in snapshot-time order (ties broken by path), key pack snapshots become
 * inventory events, and events are taken as they are; duplicates (same eventId) are kept once.
 */
export function buildEvents(reports: readonly FileReport[]): BuiltEvents {
  const events: CanonicalEvent[] = [];
  const stale: BuiltEvents['stale'] = [];
  const incomplete: BuiltEvents['incomplete'] = [];
  const snapshots = reports
    .flatMap((report) => report.issued.map((snapshot) => ({ report, snapshot })))
    .sort(
      (a, b) =>
        a.snapshot.licenseServer.localeCompare(b.snapshot.licenseServer) ||
        Date.parse(a.snapshot.takenAt) - Date.parse(b.snapshot.takenAt) ||
        a.report.file.path.localeCompare(b.report.file.path),
    );
  const states = new Map<string, SnapshotState>();
  for (const { report, snapshot } of snapshots) {
    const previous = states.get(snapshot.licenseServer);
    const diff = diffSnapshot(previous, snapshot);
    if (diff.stale) {
      stale.push({ file: report.file.display, licenseServer: snapshot.licenseServer, takenAt: snapshot.takenAt });
      continue;
    }
    const rejected = report.rejections.filter((r) => r.record !== null).length;
    if (previous !== undefined && rejected > 0) {
      incomplete.push({ file: report.file.display, licenseServer: snapshot.licenseServer, rejected });
    }
    states.set(snapshot.licenseServer, diff.state);
    for (const event of diff.events) events.push(event);
  }
  for (const report of reports) {
    for (const snap of report.keyPacks) {
      for (const event of buildKeyPackEvents(snap.licenseServer, snap.takenAt, snap.keyPacks, snap.source)) events.push(event);
    }
    for (const event of report.events) events.push(event);
  }
  const seen = new Set<string>();
  const unique = events.filter((e) => (seen.has(e.eventId) ? false : (seen.add(e.eventId), true)));
  unique.sort((a, b) => (a.eventTime < b.eventTime ? -1 : a.eventTime > b.eventTime ? 1 : a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  return { events: unique, stale, incomplete };
}
