import { constants, watch, type FSWatcher } from 'node:fs';
import { mkdir, open, readdir, rename, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { type ChosenSnapshotTime, type ParseOptions, type ParsedBatch, SnapshotTimeBoundsBuilder, chooseSnapshotTime, parseStream, snapshotTimeFromName } from '@calwatch/ingest';
import { isCalwatchError, msFromIso } from '@calwatch/model';
import { type Logger } from '@calwatch/runtime';
import { readBody, type BodyLimits } from './body-stream';
import { COLLECTOR_ERRORS } from './errors';
import { createStabilityTracker, isIgnoredDropFile } from './file-stability';
import type { IngestResult, Ingestor, ItemKind } from './ingestor';

/** A parser of drop files as parseStream: non-empty batches of items, in input order. */
export type ParseStreamFn = (input: AsyncIterable<Buffer | string>, options: ParseOptions) => AsyncIterable<ParsedBatch>;

/** Opened read-only, never through a symbolic link, and without blocking on a FIFO. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export interface DropFolderOptions {
  dir: string;
  ingestor: Ingestor;
  logger: Logger;
  stableMs: number;
  scanIntervalMs: number;
  /** False while Kafka is known to be down: files wait in the folder. */
  canPublish: () => boolean;
  onOutcome?: (outcome: 'done' | 'failed' | 'retry') => void;
  /** The limits of an HTTP body apply to a file too: as stored, and after gzip. */
  limits: BodyLimits;
  parse?: ParseStreamFn;
  now?: () => Date;
}

export interface DropFolder {
  start(): Promise<void>;
  /** Stops watching and waits for the file being ingested, if any. */
  stop(): Promise<void>;
  /** Scans now and resolves when every ready file was handled (tests, SIGHUP). */
  scan(): Promise<void>;
}

const ALL_KINDS: ReadonlySet<ItemKind> = new Set<ItemKind>(['issued-license', 'keypack', 'event']);
export const DONE_DIR = 'done';
export const FAILED_DIR = 'failed';

/**
 * A watched folder for export files: each file is ingested once it is complete, then moved
 * to done/ (with <name>.report.json when records were rejected or a snapshot was stale) or
 * to failed/ (with <name>.error.json). Files left behind by a stop or a crash are picked
 * up at the next start; re-reading one emits the same event ids, so that is harmless.
 */
export function createDropFolder(options: DropFolderOptions): DropFolder {
  const { dir, ingestor, logger, limits } = options;
  const parse = options.parse ?? parseStream;
  const now = options.now ?? (() => new Date());
  const tracker = createStabilityTracker(options.stableMs);
  const log = logger.child({ component: 'drop-folder', dir });
  let watcher: FSWatcher | undefined;
  let interval: NodeJS.Timeout | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  function schedule(delayMs: number): void {
    if (stopped) return;
    clearTimeout(debounce);
    debounce = setTimeout(() => void scan(), delayMs);
    debounce.unref();
  }

  function scan(): Promise<void> {
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await scanOnce();
      } while (again && !stopped);
    })()
      .catch((error: unknown) => log.error({ err: error }, 'drop folder scan failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  async function scanOnce(): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    const names = new Set(entries.filter((e) => e.isFile() && !isIgnoredDropFile(e.name)).map((e) => e.name));
    tracker.retain(names);
    let waiting = false;
    for (const name of [...names].sort()) {
      if (stopped) return;
      const path = join(dir, name);
      const info = await stat(path).catch(() => undefined);
      if (info === undefined) continue;
      if (!tracker.observe(name, info, now().getTime())) {
        waiting = true;
        continue;
      }
      // Asked only for a file about to be read: while Kafka is down this claims the one retry.
      if (!options.canPublish()) {
        waiting = true;
        break;
      }
      await ingestFile(name, path);
    }
    // Come back once the files seen changing may have settled.
    if (waiting) schedule(Math.max(options.stableMs, 50));
  }

  /**
   * Opens what the scan saw, refusing a symbolic link put in its place since (O_NOFOLLOW)
   * and anything but a regular file (checked on the open descriptor, so it is the file
   * that will be read).
   */
  async function openRegular(path: string): Promise<{ handle: FileHandle; size: number; mtime: Date }> {
    let handle: FileHandle;
    try {
      handle = await open(path, OPEN_FLAGS);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ELOOP' || code === 'EMLINK' ? 'it is a symbolic link' : `it cannot be opened (${code ?? (error as Error).message})`;
      throw COLLECTOR_ERRORS.create('COLLECTOR_DROP_FILE_FAILED', `the file was not read: ${why}`, { cause: error });
    }
    const info = await handle.stat();
    if (!info.isFile()) {
      await handle.close();
      throw COLLECTOR_ERRORS.create('COLLECTOR_DROP_FILE_FAILED', 'the file was not read: it is not a regular file');
    }
    return { handle, size: info.size, mtime: info.mtime };
  }

  /** The opened file's parsed items in batches, read from its start under the body limits. */
  function readBatches(handle: FileHandle, options: ParseOptions): AsyncIterable<ParsedBatch> {
    const body = readBody(handle.createReadStream({ start: 0, autoClose: false }) as AsyncIterable<Buffer>, 'identity', limits);
    return parse(body.chunks, options);
  }

  async function ingestFile(name: string, path: string): Promise<void> {
    const at = now();
    let opened: { handle: FileHandle; size: number; mtime: Date };
    try {
      opened = await openRegular(path);
    } catch (error) {
      await moveToFailed(name, error as { code: string; message: string }, undefined);
      return;
    }
    const { handle } = opened;
    if (opened.size === 0 || opened.size > limits.maxBytes) {
      await handle.close();
      const error =
        opened.size === 0
          ? COLLECTOR_ERRORS.create('COLLECTOR_DROP_FILE_FAILED', 'the file is empty')
          : COLLECTOR_ERRORS.create('COLLECTOR_BODY_TOO_LARGE', `the file of ${opened.size} bytes exceeds ${limits.maxBytes} bytes`);
      await moveToFailed(name, error, undefined);
      return;
    }
    let result: IngestResult;
    let snapshotTime: ChosenSnapshotTime;
    try {
      snapshotTime = await snapshotTimeOf(name, path, handle, opened.mtime, at);
      if (snapshotTime.warning !== null) log.warn({ file: name, snapshotTime: snapshotTime.time, from: snapshotTime.from }, `snapshot time: ${snapshotTime.warning}`);
      const takenAt = snapshotTime.time;
      result = await ingestor.ingest({ batches: readBatches(handle, { ref: path, observedTime: takenAt }), ref: path, accepts: ALL_KINDS, takenAt });
    } catch (error) {
      if (isCalwatchError(error) && error.retriable) {
        tracker.forget(name);
        options.onOutcome?.('retry');
        log.warn({ err: error, file: name }, 'drop file left in place; it is retried once Kafka takes records again');
        return;
      }
      const failure = isCalwatchError(error)
        ? error
        : COLLECTOR_ERRORS.create('COLLECTOR_DROP_FILE_FAILED', `the file could not be read: ${(error as Error).message}`, { cause: error });
      await moveToFailed(name, failure, undefined);
      return;
    } finally {
      await handle.close();
    }
    if (result.accepted === 0) {
      const reason = result.rejected > 0 ? `no record could be read; ${result.rejected} rejected (see the dead-letter topic)` : 'the file holds no records';
      await moveToFailed(name, COLLECTOR_ERRORS.create('COLLECTOR_DROP_FILE_FAILED', reason), result);
      return;
    }
    const target = await moveInto(DONE_DIR, name);
    const noteworthy = result.rejected > 0 || result.snapshots.some((s) => s.stale || s.partial) || snapshotTime.warning !== null;
    if (noteworthy) await writeJson(join(dir, DONE_DIR, `${target}.report.json`), buildReport(name, at, result, snapshotTime));
    tracker.forget(name);
    options.onOutcome?.('done');
    log.info({ file: name, movedTo: `${DONE_DIR}/${target}`, accepted: result.accepted, rejected: result.rejected, events: result.events }, 'drop file ingested');
  }

  /**
   * A time stamp in the name, else the mtime (a clock ahead is clamped) kept within what the
   * export's licenses prove: a copied export's mtime is when it was copied. The file is read
   * once ahead for that; a file that is not a license export stops at its first record.
   */
  async function snapshotTimeOf(name: string, path: string, handle: FileHandle, mtime: Date, at: Date): Promise<ChosenSnapshotTime> {
    const guessMs = Math.min(mtime.getTime(), at.getTime());
    const fromName = snapshotTimeFromName(name);
    const bounds = new SnapshotTimeBoundsBuilder();
    if (fromName === undefined) {
      read: for await (const batch of readBatches(handle, { ref: path, observedTime: new Date(guessMs).toISOString() })) {
        for (const item of batch) {
          if (item.kind === 'rejected') continue;
          if (item.kind !== 'issued-license') break read;
          const { license } = item;
          bounds.add(license.status, msFromIso(license.issueDate), license.expirationDate === null ? null : msFromIso(license.expirationDate));
        }
      }
    }
    return chooseSnapshotTime({
      ...(fromName === undefined ? {} : { given: { time: fromName, from: 'name' as const } }),
      guessMs,
      guessFrom: 'mtime',
      bounds: bounds.bounds(),
      display: name,
    });
  }

  async function moveToFailed(name: string, error: { code: string; message: string }, result: IngestResult | undefined): Promise<void> {
    const target = await moveInto(FAILED_DIR, name);
    await writeJson(join(dir, FAILED_DIR, `${target}.error.json`), {
      file: name,
      at: now().toISOString(),
      error: { code: error.code, message: error.message },
      ...(result === undefined ? {} : { rejected: result.rejected, rejections: result.rejections }),
    });
    tracker.forget(name);
    options.onOutcome?.('failed');
    log.warn({ file: name, movedTo: `${FAILED_DIR}/${target}`, code: error.code }, 'drop file failed');
  }

  /** Moves a file into a sub-folder without overwriting an earlier file of the same name. */
  async function moveInto(sub: string, name: string): Promise<string> {
    let target = name;
    const taken = await stat(join(dir, sub, target)).then(
      () => true,
      () => false,
    );
    if (taken) target = `${now().toISOString().replace(/[:.]/g, '')}-${name}`;
    await rename(join(dir, name), join(dir, sub, target));
    return target;
  }

  return {
    async start() {
      stopped = false;
      await mkdir(join(dir, DONE_DIR), { recursive: true });
      await mkdir(join(dir, FAILED_DIR), { recursive: true });
      try {
        watcher = watch(dir, () => schedule(50));
        watcher.on('error', (error) => log.warn({ err: error }, 'drop folder watch failed; periodic scans only'));
      } catch (error) {
        log.warn({ err: error }, 'drop folder cannot be watched; periodic scans only');
      }
      interval = setInterval(() => void scan(), options.scanIntervalMs);
      interval.unref();
      void scan();
      log.info('watching drop folder');
    },
    async stop() {
      stopped = true;
      watcher?.close();
      watcher = undefined;
      clearInterval(interval);
      clearTimeout(debounce);
      await running;
    },
    scan,
  };
}

function buildReport(name: string, at: Date, result: IngestResult, snapshotTime: ChosenSnapshotTime): Record<string, unknown> {
  return {
    file: name,
    at: at.toISOString(),
    snapshotTime: { time: snapshotTime.time, from: snapshotTime.from, ...(snapshotTime.warning === null ? {} : { warning: snapshotTime.warning }) },
    accepted: result.accepted,
    rejected: result.rejected,
    events: result.events,
    snapshots: result.snapshots,
    rejections: result.rejections,
  };
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}
