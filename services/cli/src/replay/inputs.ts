import { createReadStream } from 'node:fs';
import { glob, stat } from 'node:fs/promises';
import { basename, isAbsolute, resolve } from 'node:path';
import { createGunzip } from 'node:zlib';
import { type InputFormat, SnapshotTimeBoundsBuilder, chooseSnapshotTime, detectFormat, parseFile } from '@calwatch/ingest';
import { msFromIso } from '@calwatch/model';
import { InputError, listInputs, type SnapshotTimeSource } from '../commands/analyze-input';
import { REPLAY_ERRORS } from './errors';

/** What an input is replayed as: a whole table at one instant, or a stream of events. */
export type InputRole = 'issued-snapshot' | 'keypack-snapshot' | 'events';

/** How the bytes are laid out, for the collector's Content-Type. */
export type InputContainer = 'csv' | 'json' | 'ndjson' | 'xml';

export interface ReplayInput {
  /** Absolute path: the checkpoint's key. */
  path: string;
  /** As the user named it (or as found under a directory they named). */
  display: string;
  size: number;
  mtimeMs: number;
  gzip: boolean;
  format: InputFormat;
  container: InputContainer;
  role: InputRole;
  /** Snapshot time of an export; for event files the observed time of records without one. */
  snapshotTime: string;
  snapshotTimeFrom: SnapshotTimeSource;
  /** Why the snapshot time is not the file's mtime: it fell outside what the export proves. */
  snapshotTimeWarning?: string;
}

export interface SkippedInput {
  display: string;
  reason: string;
}

export interface InputPlan {
  inputs: ReplayInput[];
  skipped: SkippedInput[];
  totalBytes: number;
}

/** Bytes read (after gzip) to tell the format; the parsers sniff the same amount. */
const HEAD_BYTES = 64 * 1024;

const GLOB_CHARS = /[*?[\]{}]/;

export function isGlob(pattern: string): boolean {
  return GLOB_CHARS.test(pattern);
}

export function roleOf(format: InputFormat): InputRole {
  if (format === 'wmi-issued-licenses') return 'issued-snapshot';
  if (format === 'wmi-keypacks') return 'keypack-snapshot';
  return 'events';
}

/** CSV or JSON for exports (by the first character of `head`, read as latin1), NDJSON or XML for event files. */
export function containerOf(format: InputFormat, head: string): InputContainer {
  if (format === 'evtx-xml') return 'xml';
  if (format === 'wmi-issued-licenses' || format === 'wmi-keypacks') {
    // Byte-order marks and the zero bytes of UTF-16 are not content.
    const first = head.replace(/\0/g, '').replace(/^[\s\uFEFF\xEF\xBB\xBF\xFF\xFE]+/, '')[0];
    return first === '{' || first === '[' ? 'json' : 'csv';
  }
  return 'ndjson';
}

/** The first bytes of a file, inflated when it is gzip. */
export async function readHead(path: string): Promise<{ head: Buffer; gzip: boolean }> {
  const raw = await readPrefix(createReadStream(path, { end: HEAD_BYTES - 1 }));
  const gzip = raw[0] === 0x1f && raw[1] === 0x8b;
  if (!gzip) return { head: raw, gzip };
  const inflating = createReadStream(path).pipe(createGunzip());
  try {
    return { head: await readPrefix(inflating), gzip };
  } catch {
    // A corrupt gzip file is still replayed: the parser rejects it with a coded reason.
    return { head: Buffer.alloc(0), gzip };
  }
}

async function readPrefix(stream: NodeJS.ReadableStream & { destroy(): void }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const buffer = chunk as Buffer;
      chunks.push(buffer);
      size += buffer.length;
      if (size >= HEAD_BYTES) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, HEAD_BYTES);
}

async function expand(paths: readonly string[], cwd: string): Promise<{ path: string; fromGlob: boolean }[]> {
  const out: { path: string; fromGlob: boolean }[] = [];
  for (const pattern of paths) {
    if (!isGlob(pattern)) {
      out.push({ path: pattern, fromGlob: false });
      continue;
    }
    const matches: string[] = [];
    for await (const match of glob(pattern, { cwd })) matches.push(isAbsolute(match) ? match : resolve(cwd, match));
    for (const match of matches.sort()) out.push({ path: match, fromGlob: true });
  }
  return out;
}

/**
 * Expands the command line (files, directories walked, quoted globs) into the inputs of a
 * replay, each with its format, role and snapshot time (as `calwatch analyze` reads them:
 * a time stamp in the file name, else the file's mtime). A file named explicitly that
 * matches no format is an error; one found by walking or a glob is skipped and listed.
 */
export async function planInputs(paths: readonly string[], options: { cwd: string }): Promise<InputPlan> {
  const expanded = await expand(paths, options.cwd);
  const explicit = new Set(expanded.filter((e) => !e.fromGlob).map((e) => resolve(options.cwd, e.path)));
  let files;
  try {
    files = await listInputs(
      expanded.map((e) => e.path),
      { cwd: options.cwd },
    );
  } catch (error) {
    if (error instanceof InputError) throw REPLAY_ERRORS.create('REPLAY_INPUT_UNREADABLE', error.message, { cause: error });
    throw error;
  }
  const inputs: ReplayInput[] = [];
  const skipped: SkippedInput[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file.path)) continue;
    seen.add(file.path);
    const info = await stat(file.path);
    const { head, gzip } = await readHead(file.path);
    const format = head.length === 0 && !gzip ? undefined : detectFormat(head, basename(file.path));
    if (format === undefined) {
      const reason = head.length === 0 && !gzip ? 'empty file' : 'unknown format';
      if (file.explicit && explicit.has(file.path)) {
        throw REPLAY_ERRORS.create('REPLAY_UNKNOWN_FORMAT', `cannot replay ${file.display}: ${reason}`, { context: { path: file.path } });
      }
      skipped.push({ display: file.display, reason });
      continue;
    }
    const role = roleOf(format);
    const timed = role === 'issued-snapshot' && file.snapshotTimeFrom === 'mtime' ? await boundedByData(file.path, file.display, file.snapshotTime) : null;
    inputs.push({
      path: file.path,
      display: file.display,
      size: info.size,
      mtimeMs: Math.floor(info.mtimeMs),
      gzip,
      format,
      container: containerOf(format, head.toString('latin1', 0, Math.min(head.length, 256))),
      role,
      snapshotTime: timed?.time ?? file.snapshotTime,
      snapshotTimeFrom: timed?.from ?? file.snapshotTimeFrom,
      ...(timed?.warning == null ? {} : { snapshotTimeWarning: `${timed.warning} (put a time stamp in the file name to set it)` }),
    });
  }
  if (inputs.length === 0) {
    throw REPLAY_ERRORS.create('REPLAY_NO_INPUTS', `nothing to replay in ${paths.join(', ')}${skipped.length > 0 ? ` (${skipped.length} file(s) skipped)` : ''}`);
  }
  return { inputs, skipped, totalBytes: inputs.reduce((sum, input) => sum + input.size, 0) };
}

/**
 * A license export timed by its mtime is read once ahead to bound that time by what its
 * licenses prove (see chooseSnapshotTime): the replay orders and sends it at that time.
 */
async function boundedByData(path: string, display: string, mtime: string): Promise<ReturnType<typeof chooseSnapshotTime>> {
  const bounds = new SnapshotTimeBoundsBuilder();
  for await (const batch of parseFile(path, { ref: display, observedTime: mtime })) {
    for (const item of batch) {
      if (item.kind !== 'issued-license') continue;
      const { license } = item;
      bounds.add(license.status, msFromIso(license.issueDate), license.expirationDate === null ? null : msFromIso(license.expirationDate));
    }
  }
  return chooseSnapshotTime({ guessMs: Date.parse(mtime), guessFrom: 'mtime', bounds: bounds.bounds(), display });
}

/** The snapshot-time warnings of a plan, for summaries. */
export function snapshotTimeWarnings(plan: InputPlan): string[] {
  const warnings: string[] = [];
  for (const input of plan.inputs) if (input.snapshotTimeWarning !== undefined) warnings.push(input.snapshotTimeWarning);
  return warnings;
}
