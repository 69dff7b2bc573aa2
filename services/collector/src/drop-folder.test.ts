import { symlinkSync, unlinkSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_EVENT_TIME_SKEW_MS } from '@calwatch/model';
import { createSilentLogger } from '@calwatch/runtime';
import type { BodyLimits } from './body-stream';
import { createDropFolder, type DropFolder } from './drop-folder';
import { COLLECTOR_ERRORS } from './errors';
import { screenEvents } from './event-screen';
import { buildClientStoreEvent, buildIssuedLicenseRow, buildIssuedLicensesCsv } from './testing/export-fixtures';
import { createIngestor } from './ingestor';
import { createKafkaAvailability, withAvailability } from './kafka-availability';
import { createMemoryPublisher } from './testing/memory-publisher';
import type { EventPublisher } from './publisher';
import { createSnapshotCoordinator } from './snapshot-coordinator';
import { waitFor } from '../../../test/harness/wait-for';

let dir: string;
let folder: DropFolder | undefined;

afterEach(async () => {
  await folder?.stop();
  folder = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function setup(options: { stableMs?: number; publisher?: EventPublisher; canPublish?: () => boolean; limits?: BodyLimits; folderClock?: () => Date } = {}) {
  dir = await mkdtemp(join(tmpdir(), 'calwatch-drop-'));
  const memory = createMemoryPublisher();
  const publisher = options.publisher ?? memory;
  const now = () => new Date();
  const coordinator = createSnapshotCoordinator({ publisher, screen: (events, ref) => screenEvents(events, ref, now().toISOString(), DEFAULT_MAX_EVENT_TIME_SKEW_MS) });
  const ingestor = createIngestor({ publisher, snapshots: coordinator, batchRecords: 50, maxReportedRejections: 10, maxEventTimeSkewMs: DEFAULT_MAX_EVENT_TIME_SKEW_MS, now });
  folder = createDropFolder({
    dir,
    ingestor,
    logger: createSilentLogger(),
    stableMs: options.stableMs ?? 0,
    scanIntervalMs: 60_000,
    canPublish: options.canPublish ?? (() => true),
    limits: options.limits ?? { maxBytes: 10_000_000, maxDecompressedBytes: 40_000_000 },
    ...(options.folderClock === undefined ? {} : { now: options.folderClock }),
  });
  return { publisher: memory, folder };
}

const rows = Array.from({ length: 3 }, (_, i) => buildIssuedLicenseRow(i + 1));

describe('drop folder', () => {
  it('ingests a complete export and moves it to done/ without a report', async () => {
    const { publisher, folder } = await setup();
    await writeFile(join(dir, 'issued.csv'), buildIssuedLicensesCsv('LS01', rows));
    // Written when the rows say it was taken: between their issue dates and their expiry.
    const takenAt = new Date(Date.UTC(2024, 4, 1));
    await utimes(join(dir, 'issued.csv'), takenAt, takenAt);
    await folder.start();
    await folder.scan();
    expect(publisher.events.map((e) => e.type)).toEqual(['license.issued', 'license.issued', 'license.issued']);
    expect(publisher.events[0]!.source.ref).toBe(join(dir, 'issued.csv'));
    expect(await readdir(dir)).toEqual(['done', 'failed']);
    expect(await readdir(join(dir, 'done'))).toEqual(['issued.csv']);
  });

  it('bounds the snapshot time of a copied export by its data, and says so in the report', async () => {
    const { publisher, folder } = await setup();
    // A copy made today of an export whose licenses all expired in 2024: today cannot be its time.
    await writeFile(join(dir, 'copy.csv'), buildIssuedLicensesCsv('LS01', rows));
    await folder.start();
    await folder.scan();
    const earliestExpiry = buildIssuedLicenseRow(1).expirationDate;
    expect(publisher.events.map((e) => e.observedTime)).toEqual([earliestExpiry, earliestExpiry, earliestExpiry]);
    const report = JSON.parse(await readFile(join(dir, 'done', 'copy.csv.report.json'), 'utf8')) as { snapshotTime: { time: string; from: string; warning: string } };
    expect(report.snapshotTime.time).toBe(earliestExpiry);
    expect(report.snapshotTime.from).toBe('data');
    expect(report.snapshotTime.warning).toContain('earliest expiry');
  });

  it('takes the time stamp in the file name over the mtime', async () => {
    const { publisher, folder } = await setup();
    await writeFile(join(dir, 'issued-20240510T120000Z.csv'), buildIssuedLicensesCsv('LS01', rows));
    await folder.start();
    await folder.scan();
    expect(new Set(publisher.events.map((e) => e.observedTime))).toEqual(new Set(['2024-05-10T12:00:00.000Z']));
    expect(await readdir(join(dir, 'done'))).toEqual(['issued-20240510T120000Z.csv']);
  });

  it('publishes the good records of a partly bad file, dead-letters the rest and writes a report', async () => {
    const { publisher, folder } = await setup();
    const lines = [JSON.stringify(buildClientStoreEvent(1)), 'garbage', JSON.stringify(buildClientStoreEvent(2))];
    await writeFile(join(dir, 'events.ndjson.gz'), gzipSync(`${lines.join('\n')}\n`));
    await folder.start();
    await folder.scan();
    expect(publisher.events.length).toBe(2);
    expect(publisher.deadLetters.map((d) => d.location.line)).toEqual([2]);
    expect((await readdir(join(dir, 'done'))).sort()).toEqual(['events.ndjson.gz', 'events.ndjson.gz.report.json']);
    const report = JSON.parse(await readFile(join(dir, 'done', 'events.ndjson.gz.report.json'), 'utf8'));
    expect(report).toMatchObject({ file: 'events.ndjson.gz', accepted: 2, rejected: 1 });
    expect(report.rejections[0].line).toBe(2);
  });

  it('moves unreadable and empty files to failed/ with an error report', async () => {
    const { publisher, folder } = await setup();
    await writeFile(join(dir, 'junk.bin'), Buffer.from([0, 1, 2, 3, 250, 251]));
    await writeFile(join(dir, 'empty.csv'), '');
    await folder.start();
    await folder.scan();
    expect((await readdir(join(dir, 'failed'))).sort()).toEqual(['empty.csv', 'empty.csv.error.json', 'junk.bin', 'junk.bin.error.json']);
    const error = JSON.parse(await readFile(join(dir, 'failed', 'junk.bin.error.json'), 'utf8'));
    expect(error.error.code).toBe('COLLECTOR_DROP_FILE_FAILED');
    expect(publisher.deadLetters.length).toBeGreaterThan(0);
    expect(publisher.events).toEqual([]);
  });

  it('leaves temporary files alone and waits for a file to be stable', async () => {
    // The folder's clock is the test's: the stability window passes when the test says so.
    let clockMs = Date.now();
    const { publisher, folder } = await setup({ stableMs: 300, folderClock: () => new Date(clockMs) });
    await writeFile(join(dir, 'issued.csv.tmp'), buildIssuedLicensesCsv('LS01', rows));
    await writeFile(join(dir, 'late.csv'), buildIssuedLicensesCsv('LS02', rows));
    await folder.start();
    await folder.scan();
    expect(publisher.events).toEqual([]);
    clockMs += 299;
    await folder.scan();
    expect(publisher.events).toEqual([]);
    clockMs += 1;
    await folder.scan();
    expect(publisher.events.map((e) => e.licenseServer)).toEqual(['LS02', 'LS02', 'LS02']);
    expect((await readdir(dir)).sort()).toEqual(['done', 'failed', 'issued.csv.tmp']);
  });

  it('keeps a file in place while Kafka is unavailable and ingests it later; same names do not overwrite', async () => {
    const memory = createMemoryPublisher();
    const availability = createKafkaAvailability({ retryIntervalMs: 60_000 });
    const { folder } = await setup({ publisher: withAvailability(memory, availability), canPublish: () => availability.tryEnter() });
    memory.failNext(COLLECTOR_ERRORS.create('COLLECTOR_KAFKA_UNAVAILABLE', 'down'));
    await writeFile(join(dir, 'a.ndjson'), `${JSON.stringify(buildClientStoreEvent(1))}\n`);
    await folder.start();
    await folder.scan();
    await folder.scan();
    expect((await readdir(dir)).sort()).toEqual(['a.ndjson', 'done', 'failed']);
    expect(memory.events).toEqual([]);
    availability.markOk();
    await folder.scan();
    expect(memory.events.length).toBe(1);
    await writeFile(join(dir, 'a.ndjson'), `${JSON.stringify(buildClientStoreEvent(2))}\n`);
    await folder.scan();
    const done = await readdir(join(dir, 'done'));
    expect(done.length).toBe(2);
    expect(done).toContain('a.ndjson');
    expect(memory.events.length).toBe(2);
  });

  it('picks up files left in the folder when it starts, and notices new ones by watching', async () => {
    const { publisher, folder } = await setup();
    await writeFile(join(dir, 'left.ndjson'), `${JSON.stringify(buildClientStoreEvent(1))}\n`);
    await folder.start();
    await waitFor(() => publisher.events.length === 1, 3_000, 'the file left in the folder to be ingested', { intervalMs: 20 });
    await writeFile(join(dir, 'new.ndjson'), `${JSON.stringify(buildClientStoreEvent(2))}\n`);
    await waitFor(() => publisher.events.length === 2, 3_000, 'the new file to be noticed and ingested', { intervalMs: 20 });
    expect(publisher.events.map((e) => e.eventId)).toEqual([buildClientStoreEvent(1).eventId, buildClientStoreEvent(2).eventId]);
  });

  it('does not follow a file swapped for a symbolic link between the scan and the read', async () => {
    const secretDir = await mkdtemp(join(tmpdir(), 'calwatch-secret-'));
    const secret = join(secretDir, 'other-server.csv');
    await writeFile(secret, buildIssuedLicensesCsv('LS99', rows));
    let swapped = false;
    const { publisher, folder } = await setup({
      // Asked right before the file is opened: the moment an attacker would swap it.
      canPublish: () => {
        if (!swapped) {
          swapped = true;
          unlinkSync(join(dir, 'issued.csv'));
          symlinkSync(secret, join(dir, 'issued.csv'));
        }
        return true;
      },
    });
    try {
      await writeFile(join(dir, 'issued.csv'), buildIssuedLicensesCsv('LS01', rows));
      await folder.start();
      await folder.scan();
      expect(swapped).toBe(true);
      expect(publisher.events).toEqual([]);
      const error = JSON.parse(await readFile(join(dir, 'failed', 'issued.csv.error.json'), 'utf8')) as { error: { code: string; message: string } };
      expect(error.error.code).toBe('COLLECTOR_DROP_FILE_FAILED');
      expect(error.error.message).toMatch(/symbolic link/);
    } finally {
      await rm(secretDir, { recursive: true, force: true });
    }
  });

  it('refuses a file larger than the body limit, and one that inflates past the decompressed limit', async () => {
    const { publisher, folder } = await setup({ limits: { maxBytes: 2_000, maxDecompressedBytes: 50_000 } });
    const big = buildIssuedLicensesCsv('LS01', Array.from({ length: 100 }, (_, i) => buildIssuedLicenseRow(i + 1)));
    expect(big.length).toBeGreaterThan(2_000);
    await writeFile(join(dir, 'big.csv'), big);
    const bomb = gzipSync(Buffer.concat([Buffer.from(buildIssuedLicensesCsv('LS01', rows)), Buffer.alloc(1_000_000, 0x20)]));
    expect(bomb.length).toBeLessThan(2_000);
    await writeFile(join(dir, 'bomb.csv.gz'), bomb);
    await folder.start();
    await folder.scan();
    expect(publisher.events).toEqual([]);
    const codes = await Promise.all(
      ['big.csv', 'bomb.csv.gz'].map(async (name) => (JSON.parse(await readFile(join(dir, 'failed', `${name}.error.json`), 'utf8')) as { error: { code: string } }).error.code),
    );
    expect(codes).toEqual(['COLLECTOR_BODY_TOO_LARGE', 'COLLECTOR_DECOMPRESSED_TOO_LARGE']);
  });
});
