import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSnapshots, diffSnapshot, parseStream, type SnapshotState } from '@calwatch/ingest';
import { createKafkaClient, ensureCalwatchTopics, type IncomingRecord, type KafkaClient } from '@calwatch/kafka';
import { CanonicalEvent, DeadLetter, buildTopicNames, isCalwatchError, type TopicNames } from '@calwatch/model';
import { createSilentLogger } from '@calwatch/runtime';
import { createCollectorService, loadCollectorConfig, type CollectorService } from '@calwatch/collector';
import { buildClientStoreEvent, buildIssuedLicenseRow, buildIssuedLicensesCsv, type IssuedLicenseRow } from '@calwatch/collector/testing';
import { deleteTopicsWithPrefix } from '../harness/cleanup';
import { buildTestEnv, getTestServices, uniqueName } from '../harness/services';
import { readTopicToEnd } from '../harness/topic-reader';
import { waitFor } from '../harness/wait-for';

const TOKEN = 'integration-token-0123456789abcdef';
const PARTITIONS = 3;

let kafka: KafkaClient;
let env: Record<string, string>;
let topics: TopicNames;
const running: CollectorService[] = [];
const folders: string[] = [];

async function startCollector(overrides: Record<string, string> = {}): Promise<{ service: CollectorService; url: string }> {
  const config = loadCollectorConfig({ ...env, ...overrides });
  const service = createCollectorService({ config, logger: createSilentLogger(), kafka, defaultMetrics: false });
  running.push(service);
  await service.start();
  const address = service.address()!;
  return { service, url: `http://127.0.0.1:${address.port}` };
}

function readTopic(topic: string): Promise<IncomingRecord[]> {
  return readTopicToEnd(kafka, topic, PARTITIONS);
}

async function readEvents(licenseServer: string): Promise<CanonicalEvent[]> {
  return (await readTopic(topics.events))
    .map((record) => CanonicalEvent.parse(JSON.parse(record.value!.toString('utf8'))))
    .filter((event) => event.licenseServer === licenseServer);
}

async function readDeadLetters(): Promise<Array<{ record: IncomingRecord; letter: DeadLetter }>> {
  return (await readTopic(topics.deadLetter)).map((record) => ({ record, letter: DeadLetter.parse(JSON.parse(record.value!.toString('utf8'))) }));
}

function post(url: string, path: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, ...headers }, body });
}

function postSnapshot(url: string, licenseServer: string, rows: readonly IssuedLicenseRow[], time: string): Promise<Response> {
  return post(url, '/v1/snapshots/issued-licenses', buildIssuedLicensesCsv(licenseServer, rows), {
    'content-type': 'text/csv',
    'x-calwatch-snapshot-time': time,
  });
}

function postSnapshotGzip(url: string, licenseServer: string, rows: readonly IssuedLicenseRow[], time: string): Promise<Response> {
  return post(url, '/v1/snapshots/issued-licenses', gzipSync(buildIssuedLicensesCsv(licenseServer, rows)), {
    'content-type': 'text/csv',
    'content-encoding': 'gzip',
    'x-calwatch-snapshot-time': time,
  });
}

/** The snapshot-state records of one server: its head and its license entries. */
async function readStateRecords(licenseServer: string): Promise<IncomingRecord[]> {
  return (await readTopic(topics.snapshotState)).filter((r) => r.key !== null && serverOfStateKey(r.key) === licenseServer);
}

/** ["LS01"] and ["LS01","<licenseId>"]; a plain server name is a whole-state record of an older version. */
function serverOfStateKey(key: string): string {
  try {
    return (JSON.parse(key) as string[])[0]!;
  } catch {
    return key;
  }
}

/** What the server's state is, read back as the last value per key (tombstones delete). */
function latestByKey(records: readonly IncomingRecord[]): Map<string, unknown> {
  const latest = new Map<string, unknown>();
  for (const record of records) {
    if (record.value === null) latest.delete(record.key!);
    else latest.set(record.key!, JSON.parse(record.value.toString('utf8')));
  }
  return latest;
}

/** `type:licenseId` in a stable order (the events of one snapshot are in event-time order). */
function transitions(events: readonly CanonicalEvent[]): string[] {
  return events
    .map((event) => `${event.type}:${'license' in event ? event.license.licenseId : '-'}`)
    .sort();
}


beforeAll(async () => {
  env = buildTestEnv(
    {
      COLLECTOR_TOKENS: TOKEN,
      COLLECTOR_HOST: '127.0.0.1',
      COLLECTOR_PORT: '0',
      CALWATCH_TOPIC_PARTITIONS: String(PARTITIONS),
      LOG_LEVEL: 'silent',
      COLLECTOR_MAX_BODY_BYTES: String(2 * 1024 * 1024),
      COLLECTOR_MAX_DECOMPRESSED_BYTES: String(8 * 1024 * 1024),
      COLLECTOR_DROP_STABLE_MS: '200',
      COLLECTOR_DROP_SCAN_INTERVAL_MS: '500',
      COLLECTOR_SHUTDOWN_GRACE_MS: '5000',
    },
    uniqueName('collector'),
  );
  kafka = createKafkaClient({ connection: getTestServices().kafka, logger: createSilentLogger() });
  topics = buildTopicNames(env.CALWATCH_TOPIC_PREFIX);
  await ensureCalwatchTopics(kafka, topics, { partitions: PARTITIONS, retentionMs: 3_600_000, deadLetterRetentionMs: 3_600_000 });
});

afterAll(async () => {
  for (const service of running) await service.stop().catch(() => undefined);
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
  await deleteTopicsWithPrefix(kafka, env.CALWATCH_TOPIC_PREFIX!);
});

describe('collector on a real broker', () => {
  it('refuses to start when the topics do not exist, telling to run setup', async () => {
    const config = loadCollectorConfig({ ...env, CALWATCH_TOPIC_PREFIX: `${uniqueName('absent')}.` });
    const service = createCollectorService({ config, logger: createSilentLogger(), kafka, defaultMetrics: false });
    const error = await service.start().catch((e: unknown) => e);
    expect(isCalwatchError(error, 'COLLECTOR_TOPICS_MISSING')).toBe(true);
    expect((error as Error).message).toContain('calwatch setup');
    expect(service.state).toBe('stopped');
  });

  it('publishes exactly the lifecycle events of successive snapshots, across a restart, and nothing for a re-sent one', async () => {
    const server = 'LSINT1';
    const first = await startCollector();
    expect((await fetch(`${first.url}/readyz`)).status).toBe(200);

    const s1 = [1, 2, 3, 4].map((n) => buildIssuedLicenseRow(n, { status: n === 4 ? 1 : 2 }));
    const r1 = await postSnapshot(first.url, server, s1, '2024-06-01T00:00:00Z');
    expect(r1.status).toBe(202);
    expect(await r1.json()).toMatchObject({ accepted: 4, rejected: 0, events: 4, stale: false });

    // 1 renewed, 2 revoked, 3 returned (gone), 4 upgraded (temporary -> active), 5 issued.
    const s2: IssuedLicenseRow[] = [
      { ...s1[0]!, expirationDate: '2024-09-01T00:00:00.000Z' },
      { ...s1[1]!, status: 4 },
      { ...s1[3]!, status: 2 },
      buildIssuedLicenseRow(5),
    ];
    const r2 = await postSnapshot(first.url, server, s2, '2024-06-08T00:00:00Z');
    expect(await r2.json()).toMatchObject({ events: 5, stale: false });

    const afterTwo = await readEvents(server);
    expect(transitions(afterTwo)).toEqual(
      ['license.issued:1', 'license.issued:2', 'license.issued:3', 'license.issued:4', 'license.renewed:1', 'license.revoked:2', 'license.returned:3', 'license.upgraded:4', 'license.issued:5'].sort(),
    );
    expect(new Set(afterTwo.map((e) => e.eventId)).size).toBe(afterTwo.length);
    // Keyed by license server: one server's events share a key and so a partition.
    const records = (await readTopic(topics.events)).filter((r) => r.headers['calwatch-event-type']?.startsWith('license.'));
    for (const record of records) {
      const event = CanonicalEvent.parse(JSON.parse(record.value!.toString('utf8')));
      expect(record.key).toBe(event.licenseServer);
      expect(record.headers['calwatch-schema-version']).toBe('1');
    }

    await first.service.stop();

    // A new instance restores the state from the compacted topic.
    const second = await startCollector();
    const resent = await postSnapshot(second.url, server, s2, '2024-06-08T00:00:00Z');
    expect(resent.status).toBe(202);
    expect(await resent.json()).toMatchObject({ stale: true, events: 0 });

    const s3: IssuedLicenseRow[] = [s2[0]!, s2[1]!, s2[2]!, { ...s2[3]!, status: 4 }];
    const r3 = await postSnapshot(second.url, server, s3, '2024-06-15T00:00:00Z');
    expect(await r3.json()).toMatchObject({ events: 1, stale: false });

    const all = await readEvents(server);
    expect(all.length).toBe(afterTwo.length + 1);
    const added = all.filter((e) => !afterTwo.some((old) => old.eventId === e.eventId));
    expect(transitions(added)).toEqual(['license.revoked:5']);

    const state = latestByKey(await readStateRecords(server));
    expect(state.get(JSON.stringify([server]))).toMatchObject({ issuedTakenAt: '2024-06-15T00:00:00.000Z' });
    const licenseKeys = [...state.keys()].filter((key) => key !== JSON.stringify([server]));
    expect(licenseKeys.map((key) => (JSON.parse(key) as string[])[1]).sort()).toEqual(['1', '2', '4', '5']);
    await second.service.stop();
    await second.service.stop();
    expect(second.service.state).toBe('stopped');
  });

  it('a snapshot re-sent after its state write was lost emits the same event ids again', async () => {
    const server = 'LSINT2';
    const { service, url } = await startCollector();
    const rows = [buildIssuedLicenseRow(11), buildIssuedLicenseRow(12)];
    expect((await postSnapshot(url, server, rows, '2024-06-01T00:00:00Z')).status).toBe(202);
    await service.stop();
    // As if the collector had crashed after the events were acknowledged and the license
    // entries written, before the head: the head is gone, the entries are there.
    const producer = await kafka.createProducer();
    await producer.send([{ topic: topics.snapshotState, key: JSON.stringify([server]), value: null }]);
    await producer.close();
    expect((await readStateRecords(server)).filter((r) => r.value !== null).length).toBe(3);

    const again = await startCollector();
    const stateBefore = (await readStateRecords(server)).length;
    const repeat = await postSnapshot(again.url, server, rows, '2024-06-01T00:00:00Z');
    expect(await repeat.json()).toMatchObject({ stale: false, events: 2 });
    // The entries hold these facts already: only the head is written.
    const stateAfter = await readStateRecords(server);
    expect(stateAfter.length - stateBefore).toBe(1);
    expect(stateAfter.filter((r) => r.key === JSON.stringify([server]) && r.value !== null).length).toBe(2);
    const events = await readEvents(server);
    expect(transitions(events)).toEqual(['license.issued:11', 'license.issued:11', 'license.issued:12', 'license.issued:12']);
    // Two copies of each fact with one id: consumers that dedupe on eventId see each once.
    expect(new Set(events.map((e) => e.eventId)).size).toBe(2);
    await again.service.stop();
  });

  it('keeps a 20,000-license server as small entries, writes only what changed, and diffs after a restart as a differ that never stopped', async () => {
    const server = 'LSBIG';
    const count = 20_000;
    const times = ['2024-06-01T00:00:00.000Z', '2024-06-08T00:00:00.000Z', '2024-06-15T00:00:00.000Z'];
    const s1 = Array.from({ length: count }, (_, i) => buildIssuedLicenseRow(i + 1, { status: (i + 1) % 10 === 1 ? 1 : 2 }));
    // Revoked, renewed, upgraded, another user (no event, but a new fact), returned, issued.
    const s2 = s1
      .filter((row) => row.licenseId % 1_000 !== 7)
      .map((row) =>
        row.licenseId % 1_000 === 1 ? { ...row, status: 4 }
        : row.licenseId % 1_000 === 2 ? { ...row, expirationDate: '2024-12-01T00:00:00.000Z' }
        : row.licenseId % 1_000 === 11 ? { ...row, status: 2 }
        : row.licenseId % 1_000 === 3 ? { ...row, user: 'CORP\\someone-else' }
        : row,
      )
      .concat(Array.from({ length: 20 }, (_, i) => buildIssuedLicenseRow(count + 1 + i)));
    const s3 = s2.filter((row) => row.licenseId % 500 !== 250).map((row) => (row.licenseId % 1_000 === 4 ? { ...row, status: 4 } : row));
    const snapshots = [s1, s2, s3];

    // The reference: the shared differ over the same exports, never restarted.
    const expected: string[][] = [];
    let reference: SnapshotState | undefined;
    for (const [i, rows] of snapshots.entries()) {
      async function* body() {
        yield Buffer.from(buildIssuedLicensesCsv(server, rows));
      }
      const collected = await collectSnapshots(parseStream(body(), { ref: 'reference', observedTime: times[i]! }), { takenAt: times[i]!, source: { kind: 'wmi-issued-licenses', ref: 'reference' } });
      const diff = diffSnapshot(reference, collected.issued[0]!);
      reference = diff.state;
      expected.push(diff.events.map((e) => `${e.eventId} ${e.type} ${e.eventTime}`).sort());
    }
    // 20 each revoked, renewed, upgraded, returned and issued; another user emits nothing.
    expect(expected[1]!.length).toBe(100);
    const seen = (events: readonly CanonicalEvent[]) => events.map((e) => `${e.eventId} ${e.type} ${e.eventTime}`).sort();

    const first = await startCollector();
    const r1 = await postSnapshotGzip(first.url, server, s1, times[0]!);
    expect(r1.status).toBe(202);
    expect(await r1.json()).toMatchObject({ accepted: count, rejected: 0, events: count, stale: false });
    const afterFirst = await readStateRecords(server);
    expect(afterFirst.length).toBe(count + 1);
    expect(afterFirst.filter((r) => r.key === JSON.stringify([server])).length).toBe(1);

    const r2 = await postSnapshotGzip(first.url, server, s2, times[1]!);
    expect(await r2.json()).toMatchObject({ events: expected[1]!.length, stale: false });
    // Only the licenses whose fact changed (20 x 4 changed, 20 returned, 20 issued) and the head.
    expect((await readStateRecords(server)).length - afterFirst.length).toBe(20 * 6 + 1);
    await first.service.stop();

    const second = await startCollector();
    expect(await (await postSnapshotGzip(second.url, server, s2, times[1]!)).json()).toMatchObject({ stale: true, events: 0 });
    const before = (await readEvents(server)).length;
    const r3 = await postSnapshotGzip(second.url, server, s3, times[2]!);
    expect(await r3.json()).toMatchObject({ events: expected[2]!.length, stale: false });
    await second.service.stop();

    const events = await readEvents(server);
    expect(seen(events.slice(0, count))).toEqual(expected[0]);
    expect(seen(events.slice(count, before))).toEqual(expected[1]);
    expect(seen(events.slice(before))).toEqual(expected[2]);

    // No record grows with the fleet: every one is a head or one license.
    const records = await readStateRecords(server);
    for (const record of records) expect((record.key?.length ?? 0) + (record.value?.length ?? 0)).toBeLessThan(64 * 1024);
    const state = latestByKey(records);
    expect(state.size).toBe(Object.keys(reference!.licenses).length + 1);
    expect(state.get(JSON.stringify([server]))).toMatchObject({ issuedTakenAt: times[2] });
    for (const [id, fact] of Object.entries(reference!.licenses)) expect(state.get(JSON.stringify([server, id]))).toEqual(fact);
  });

  it('reads the whole-state record of an older version: no license re-issued, then stored as entries and the old record deleted', async () => {
    const server = 'LSOLD';
    const rows = [31, 32, 33].map((n) => buildIssuedLicenseRow(n));
    // What an older collector wrote: one record keyed by the server name holding every license.
    async function* body() {
      yield Buffer.from(buildIssuedLicensesCsv(server, rows));
    }
    const takenAt = '2024-06-01T00:00:00.000Z';
    const collected = await collectSnapshots(parseStream(body(), { ref: 'old', observedTime: takenAt }), { takenAt, source: { kind: 'wmi-issued-licenses', ref: 'old' } });
    const old = { schemaVersion: 1, licenseServer: server, issued: diffSnapshot(undefined, collected.issued[0]!).state, keyPacksTakenAt: null };
    const producer = await kafka.createProducer();
    await producer.send([{ topic: topics.snapshotState, key: server, value: JSON.stringify(old), headers: { 'calwatch-schema-version': '1' } }]);
    await producer.close();

    const { service, url } = await startCollector();
    const next = [rows[0]!, { ...rows[1]!, status: 4 }, buildIssuedLicenseRow(34)];
    expect(await (await postSnapshot(url, server, next, '2024-06-08T00:00:00Z')).json()).toMatchObject({ events: 3, stale: false });
    expect(transitions(await readEvents(server))).toEqual(['license.issued:34', 'license.returned:33', 'license.revoked:32']);
    await service.stop();

    const records = await readStateRecords(server);
    expect(records.filter((r) => r.key === server).map((r) => r.value === null)).toEqual([false, true]);
    const state = latestByKey(records);
    expect([...state.keys()].sort()).toEqual([JSON.stringify([server]), ...[31, 32, 34].map((n) => JSON.stringify([server, String(n)]))].sort());

    // Restored from entries alone, the same snapshot is stale.
    const again = await startCollector();
    expect(await (await postSnapshot(again.url, server, next, '2024-06-08T00:00:00Z')).json()).toMatchObject({ stale: true, events: 0 });
    await again.service.stop();
  });

  it('dead-letters malformed and hostile input with a reason, and keeps serving', async () => {
    const { service, url } = await startCollector();
    const before = (await readDeadLetters()).length;
    const bad = await post(url, '/v1/events', `${JSON.stringify(buildClientStoreEvent(1, 'LSINT3'))}\n{"broken":\n\u0000\u0001binary\n`, { 'content-type': 'application/x-ndjson' });
    expect(bad.status).toBe(202);
    const badBody = await bad.json();
    expect(badBody).toMatchObject({ accepted: 1, rejected: 2 });
    const xml = await post(url, '/v1/events', '<!DOCTYPE x [<!ENTITY a "aaaa">]><Events><Event>&a;</Event></Events>', { 'content-type': 'application/xml' });
    expect(xml.status).toBe(400);
    const bomb = await post(url, '/v1/events', gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x7b)), { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
    expect(bomb.status).toBe(413);
    expect(((await bomb.json()) as { error: { code: string } }).error.code).toBe('COLLECTOR_DECOMPRESSED_TOO_LARGE');

    const letters = (await readDeadLetters()).slice(before);
    const codes = letters.map((l) => l.letter.code);
    expect(codes).toContain('COLLECTOR_DECOMPRESSED_TOO_LARGE');
    expect(letters.length).toBeGreaterThanOrEqual(4);
    for (const { record, letter } of letters) {
      expect(letter.reason.length).toBeGreaterThan(10);
      expect(record.key).toBe(letter.location.ref);
      expect(record.headers['calwatch-error-code']).toBe(letter.code);
    }
    const binary = letters.find((l) => l.letter.location.line === 3 && l.letter.location.ref.startsWith('http:/v1/events#'));
    expect(binary).toBeDefined();
    expect(Buffer.from(binary!.letter.originalBase64, 'base64').toString('latin1')).toContain('binary');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await service.stop();
  });

  it('never crashes on random hostile bodies, and dead-letters every record it rejects, with a reason', async () => {
    const { service, url } = await startCollector();
    const valid = (n: number) => JSON.stringify(buildClientStoreEvent(n, 'LSFUZZ'));
    // A body is lines of valid events, JSON of the wrong shape, and arbitrary text or bytes.
    const line = fc.oneof(
      fc.nat({ max: 10_000 }).map((n) => valid(n)),
      fc.json(),
      fc.string({ maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
      fc.nat({ max: 10_000 }).map((n) => valid(n).slice(0, 20 + (n % 40))),
    );
    const route = fc.constantFrom(
      { path: '/v1/events', type: 'application/x-ndjson' },
      { path: '/v1/client-stores', type: 'application/x-ndjson' },
      { path: '/v1/events', type: 'application/xml' },
      { path: '/v1/snapshots/issued-licenses', type: 'text/csv' },
      { path: '/v1/snapshots/keypacks', type: 'application/json' },
    );
    let rejectedTotal = 0;
    await fc.assert(
      fc.asyncProperty(route, fc.array(line, { minLength: 1, maxLength: 12 }), async (target, lines) => {
        const before = (await readDeadLetters()).length;
        const response = await post(url, target.path, lines.join('\n'), { 'content-type': target.type });
        // A clear answer, never a server error.
        expect([202, 400, 413]).toContain(response.status);
        const body = (await response.json()) as { rejected?: number; error?: { code: string; message: string } };
        if (response.status !== 202) expect(body.error?.message.length).toBeGreaterThan(5);
        const letters = (await readDeadLetters()).slice(before);
        // Nothing silently dropped: every rejected record is on the dead-letter topic with its reason.
        expect(letters.length).toBe(body.rejected ?? 0);
        rejectedTotal += letters.length;
        for (const { letter } of letters) expect(letter.reason.length).toBeGreaterThan(5);
      }),
      { numRuns: 25, seed: 20261127 },
    );
    expect(rejectedTotal).toBeGreaterThan(0);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await service.stop();
  });

  it('accepts gzip bodies and answers 401, 413 and 415 over HTTP', async () => {
    const { service, url } = await startCollector();
    const lines = [2, 3, 4].map((n) => JSON.stringify(buildClientStoreEvent(n, 'LSINT4'))).join('\n');
    const gz = await post(url, '/v1/events', gzipSync(`${lines}\n`), { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
    expect(gz.status).toBe(202);
    expect(await gz.json()).toMatchObject({ accepted: 3, events: 3 });
    expect((await readEvents('LSINT4')).map((e) => e.type)).toEqual(['client.store', 'client.store', 'client.store']);

    const unauthorised = await fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines });
    expect(unauthorised.status).toBe(401);
    expect(((await unauthorised.json()) as { error: { code: string } }).error.code).toBe('COLLECTOR_UNAUTHORIZED');
    const tooLarge = await post(url, '/v1/events', Buffer.alloc(3 * 1024 * 1024, 0x20), { 'content-type': 'application/x-ndjson' });
    expect(tooLarge.status).toBe(413);
    const wrongType = await post(url, '/v1/snapshots/issued-licenses', '<x/>', { 'content-type': 'application/xml' });
    expect(wrongType.status).toBe(415);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/calwatch_collector_http_requests_total\{route="\/v1\/events",status="413"\} 1/);
    expect(metrics).toMatch(/calwatch_collector_publish_duration_seconds_count [1-9]/);
    await service.stop();
  });

  it('ingests drop-folder files: good ones to done/, junk to failed/, left-over files after a restart', async () => {
    // The exports name when they were taken, as scheduled exports do: the fixture's licenses are
    // from 2024, so a file time of today would be bounded by their expiry (the same for both).
    const dir = await mkdtemp(join(tmpdir(), 'calwatch-drop-int-'));
    folders.push(dir);
    await writeFile(join(dir, 'left-over_20240501T000000Z.csv'), buildIssuedLicensesCsv('LSINT5', [buildIssuedLicenseRow(21), buildIssuedLicenseRow(22)]));
    const { service } = await startCollector({ COLLECTOR_DROP_DIR: dir });
    await writeFile(join(dir, 'junk.txt'), 'this is not an export\n');
    await waitFor(async () => (await readdir(join(dir, 'failed'))).includes('junk.txt.error.json') && (await readdir(join(dir, 'done'))).includes('left-over_20240501T000000Z.csv'), 20_000, 'the junk file failed and the left-over file done');
    expect(transitions(await readEvents('LSINT5'))).toEqual(['license.issued:21', 'license.issued:22']);

    await service.stop();
    await writeFile(join(dir, 'while-down_20240515T000000Z.csv'), buildIssuedLicensesCsv('LSINT5', [buildIssuedLicenseRow(21), buildIssuedLicenseRow(23)]));
    const restarted = await startCollector({ COLLECTOR_DROP_DIR: dir });
    await waitFor(async () => (await readdir(join(dir, 'done'))).includes('while-down_20240515T000000Z.csv'), 20_000, 'the file written while down done');
    expect(transitions(await readEvents('LSINT5'))).toEqual(['license.issued:21', 'license.issued:22', 'license.issued:23', 'license.returned:22']);
    await restarted.service.stop();
  });
});
