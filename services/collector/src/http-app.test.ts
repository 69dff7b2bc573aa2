import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { COLLECTOR_ERRORS } from './errors';
import { DEFAULT_MAX_EVENT_TIME_SKEW_MS, type CanonicalEvent } from '@calwatch/model';
import { createSilentLogger } from '@calwatch/runtime';
import { screenEvents } from './event-screen';
import { buildClientStoreEvent, buildIssuedLicenseRow, buildIssuedLicensesCsv, buildKeyPacksCsv } from './testing/export-fixtures';
import { INGEST_ROUTES, buildCollectorApp, type CollectorApp, type HttpLimits } from './http-app';
import { createAuthFailureLimiter } from './auth-failure-limiter';
import { createInFlightBudget } from './in-flight-budget';
import { createIngestor } from './ingestor';
import { createKafkaAvailability, withAvailability } from './kafka-availability';
import { createMemoryPublisher, type MemoryPublisher } from './testing/memory-publisher';
import { createCollectorMetrics } from './metrics';
import { createSnapshotCoordinator } from './snapshot-coordinator';
import { createTokenStore } from './token-auth';
import { waitFor } from '../../../test/harness/wait-for';

const TOKEN = 'test-token-0123456789abcdef';
const OTHER_TOKEN = 'second-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const NOW = new Date('2024-06-20T12:00:00.000Z');

interface Harness {
  app: CollectorApp;
  publisher: MemoryPublisher;
  serving: { value: boolean };
}

let current: Harness | undefined;

function build(
  options: { limits?: Partial<HttpLimits>; maxInFlightRequests?: number; maxInFlightBytes?: number; retryIntervalMs?: number; authMaxFailures?: number; tokenEntries?: string[] } = {},
): Harness {
  const publisher = createMemoryPublisher();
  const availability = createKafkaAvailability({ retryIntervalMs: options.retryIntervalMs ?? 60_000 });
  const guarded = withAvailability(publisher, availability);
  const now = () => NOW;
  const coordinator = createSnapshotCoordinator({ publisher: guarded, screen: (events, ref) => screenEvents(events, ref, NOW.toISOString(), DEFAULT_MAX_EVENT_TIME_SKEW_MS) });
  const metrics = createCollectorMetrics({ defaultMetrics: false });
  const ingestor = createIngestor({
    publisher: guarded,
    snapshots: coordinator,
    batchRecords: 100,
    maxReportedRejections: 5,
    maxEventTimeSkewMs: DEFAULT_MAX_EVENT_TIME_SKEW_MS,
    now,
    onRecords: (outcome, code, source, count) => metrics.records.inc({ outcome, code, source }, count),
  });
  const tokens = createTokenStore();
  tokens.replace('env', options.tokenEntries ?? [TOKEN, OTHER_TOKEN]);
  const serving = { value: true };
  const app = buildCollectorApp({
    logger: createSilentLogger(),
    tokens,
    authLimiter: createAuthFailureLimiter({ maxFailures: options.authMaxFailures ?? 1_000, windowMs: 60_000 }),
    ingestor,
    budget: createInFlightBudget({ maxRequests: options.maxInFlightRequests ?? 8, maxBytes: options.maxInFlightBytes ?? 1e9 }),
    availability,
    metrics,
    limits: {
      maxBodyBytes: 1_000_000,
      maxDecompressedBytes: 4_000_000,
      maxClockSkewMs: 60_000,
      retryAfterSeconds: 7,
      requestTimeoutMs: 60_000,
      headersTimeoutMs: 10_000,
      idleTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      ...options.limits,
    },
    readiness: () => ({ ready: serving.value && availability.isHealthy(), serving: serving.value, checks: { test: serving.value ? 'up' : 'down' } }),
    deadLetterRequest: (deadLetter) => guarded.publish([], [deadLetter]),
    now,
  });
  current = { app, publisher, serving };
  return current;
}

afterEach(async () => {
  await current?.app.close();
  current = undefined;
});

const rows = (n: number) => Array.from({ length: n }, (_, i) => buildIssuedLicenseRow(i + 1));
const csv = (list = rows(3)) => buildIssuedLicensesCsv('LS01', list);
const snapshotHeaders = (time: string) => ({ ...AUTH, 'content-type': 'text/csv', 'x-calwatch-snapshot-time': time });
const types = (events: readonly CanonicalEvent[]) => events.map((e) => `${e.type}:${'license' in e ? e.license.licenseId : '-'}`);

describe('authentication', () => {
  it('refuses requests without a valid bearer token with 401 and a coded body', async () => {
    const { app, publisher } = build();
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`]) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/snapshots/issued-licenses',
        headers: { 'content-type': 'text/csv', ...(authorization === undefined ? {} : { authorization }) },
        payload: csv(),
      });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ error: { code: 'COLLECTOR_UNAUTHORIZED', message: expect.any(String) } });
      expect(response.headers['www-authenticate']).toContain('Bearer');
    }
    expect(publisher.calls).toBe(0);
  });

  it('accepts every configured token, case-insensitive scheme', async () => {
    const { app } = build();
    for (const authorization of [`Bearer ${TOKEN}`, `bearer ${OTHER_TOKEN}`]) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/client-stores',
        headers: { authorization, 'content-type': 'application/x-ndjson' },
        payload: `${JSON.stringify({ computer: 'PC-1', hwids: ['0x0a0b'], licenseServer: 'LS01' })}\n`,
      });
      expect(response.statusCode).toBe(202);
    }
  });

  it('leaves health, readiness and metrics open', async () => {
    const { app } = build();
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(200);
  });
});

describe('request checks', () => {
  it('answers 415 for a content type or encoding the endpoint does not read', async () => {
    const { app } = build();
    const type = await app.inject({ method: 'POST', url: '/v1/snapshots/keypacks', headers: { ...AUTH, 'content-type': 'application/xml' }, payload: '<x/>' });
    expect(type.statusCode).toBe(415);
    expect(type.json().error.code).toBe('COLLECTOR_UNSUPPORTED_MEDIA_TYPE');
    expect(type.json().error.message).toContain('text/csv');
    const none = await app.inject({ method: 'POST', url: '/v1/events', headers: AUTH, payload: '{}' });
    expect(none.statusCode).toBe(415);
    const encoding = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...AUTH, 'content-type': 'application/x-ndjson', 'content-encoding': 'br' },
      payload: '{}',
    });
    expect(encoding.statusCode).toBe(415);
    expect(encoding.json().error.code).toBe('COLLECTOR_UNSUPPORTED_ENCODING');
  });

  it('answers 413 for a declared body over the limit, and dead-letters the refusal', async () => {
    const { app, publisher } = build({ limits: { maxBodyBytes: 1000 } });
    const response = await app.inject({ method: 'POST', url: '/v1/events', headers: { ...AUTH, 'content-type': 'application/x-ndjson' }, payload: 'x'.repeat(2000) });
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe('COLLECTOR_BODY_TOO_LARGE');
    expect(publisher.deadLetters.map((d) => d.code)).toEqual(['COLLECTOR_BODY_TOO_LARGE']);
    expect(publisher.deadLetters[0]!.location.ref).toMatch(/^http:\/v1\/events#/);
  });

  it('answers 413 for a streamed (chunked) body over the limit', async () => {
    const { app } = build({ limits: { maxBodyBytes: 10_000 } });
    const line = `${JSON.stringify(buildClientStoreEvent(1))}\n`;
    const response = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...AUTH, 'content-type': 'application/x-ndjson' },
      payload: Readable.from(Array.from({ length: 200 }, () => Buffer.from(line))),
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe('COLLECTOR_BODY_TOO_LARGE');
  });

  it('answers 413 for a gzip bomb, keeping its first bytes in a dead letter', async () => {
    const { app, publisher } = build({ limits: { maxBodyBytes: 1_000_000, maxDecompressedBytes: 200_000 } });
    const bomb = gzipSync(Buffer.alloc(30 * 1024 * 1024, 0x20));
    const response = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...AUTH, 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
      payload: bomb,
    });
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe('COLLECTOR_DECOMPRESSED_TOO_LARGE');
    const letter = publisher.deadLetters.find((d) => d.code === 'COLLECTOR_DECOMPRESSED_TOO_LARGE');
    expect(letter).toBeDefined();
    expect(Buffer.from(letter!.originalBase64, 'base64').subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  });

  it('answers 400 for broken gzip and for an empty body', async () => {
    const { app, publisher } = build();
    const broken = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...AUTH, 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
      payload: gzipSync(Buffer.from('{"a":1}\n'.repeat(100))).subarray(0, 30),
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.code).toBe('COLLECTOR_BAD_GZIP');
    expect(publisher.deadLetters.map((d) => d.code)).toEqual(['COLLECTOR_BAD_GZIP']);
    const empty = await app.inject({ method: 'POST', url: '/v1/events', headers: { ...AUTH, 'content-type': 'application/x-ndjson' }, payload: '' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.code).toBe('COLLECTOR_EMPTY_BODY');
  });

  it('answers 400 for malformed calwatch headers', async () => {
    const { app } = build();
    for (const headers of [
      { 'x-calwatch-snapshot-time': 'yesterday' },
      { 'x-calwatch-snapshot-time': '2024-06-20T12:00:00' },
      { 'x-calwatch-snapshot-time': '2030-01-01T00:00:00Z' },
      { 'x-calwatch-license-server': 'LS01; DROP TABLE' },
    ]) {
      const response = await app.inject({ method: 'POST', url: '/v1/snapshots/issued-licenses', headers: { ...AUTH, 'content-type': 'text/csv', ...headers }, payload: csv() });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('COLLECTOR_BAD_HEADER');
    }
  });

  it('answers 404 with a coded body for unknown endpoints', async () => {
    const { app } = build();
    const response = await app.inject({ method: 'GET', url: '/v2/nothing', headers: AUTH });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('COLLECTOR_NOT_FOUND');
  });
});

describe('snapshots', () => {
  it('publishes the lifecycle events of successive snapshots, nothing for a re-sent or older one', async () => {
    const { app, publisher } = build();
    const first = await app.inject({ method: 'POST', url: '/v1/snapshots/issued-licenses', headers: snapshotHeaders('2024-06-01T00:00:00Z'), payload: csv() });
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ accepted: 3, rejected: 0, events: 3, stale: false });
    expect(types(publisher.events)).toEqual(['license.issued:1', 'license.issued:2', 'license.issued:3']);

    // Licence 1 renewed, 2 revoked, 3 gone, 4 new.
    const second = rows(4).filter((r) => r.licenseId !== 3);
    second[0] = { ...second[0]!, expirationDate: '2024-09-01T00:00:00.000Z' };
    second[1] = { ...second[1]!, status: 4 };
    const next = await app.inject({ method: 'POST', url: '/v1/snapshots/issued-licenses', headers: snapshotHeaders('2024-06-08T00:00:00Z'), payload: csv(second) });
    expect(next.statusCode).toBe(202);
    // In event-time order: licence 4's issue date precedes the changes seen at the snapshot time.
    const changes = types(publisher.events.slice(3));
    expect(changes[0]).toBe('license.issued:4');
    expect(changes.slice(1).sort()).toEqual(['license.renewed:1', 'license.returned:3', 'license.revoked:2']);

    const count = publisher.events.length;
    for (const time of ['2024-06-08T00:00:00Z', '2024-06-02T00:00:00Z']) {
      const again = await app.inject({ method: 'POST', url: '/v1/snapshots/issued-licenses', headers: snapshotHeaders(time), payload: csv(second) });
      expect(again.statusCode).toBe(202);
      expect(again.json()).toMatchObject({ stale: true, events: 0 });
    }
    expect(publisher.events.length).toBe(count);
    expect(publisher.writes.at(-1)!.head.issuedTakenAt).toBe('2024-06-08T00:00:00.000Z');
  });

  it('accepts a gzip body and takes the license server from the header when rows lack it', async () => {
    const { app, publisher } = build();
    const body = csv().replace(/"LS01"/g, '""');
    const response = await app.inject({
      method: 'POST',
      url: '/v1/snapshots/issued-licenses',
      headers: { ...snapshotHeaders('2024-06-01T00:00:00Z'), 'content-encoding': 'gzip', 'x-calwatch-license-server': 'ls02.corp.example' },
      payload: gzipSync(body),
    });
    expect(response.statusCode).toBe(202);
    expect(publisher.events.map((e) => e.licenseServer)).toEqual(['LS02', 'LS02', 'LS02']);
  });

  it('dead-letters bad rows and does not read licenses missing from a partial snapshot as returned', async () => {
    const { app, publisher } = build();
    await app.inject({ method: 'POST', url: '/v1/snapshots/issued-licenses', headers: snapshotHeaders('2024-06-01T00:00:00Z'), payload: csv() });
    // Licence 2's row is broken (bad date): it must not come out as returned.
    const broken = rows(3).map((r) => (r.licenseId === 2 ? { ...r, issueDate: 'not a date' } : r));
    broken[0] = { ...broken[0]!, status: 4 };
    const response = await app.inject({ method: 'POST', url: '/v1/snapshots/issued-licenses', headers: snapshotHeaders('2024-06-02T00:00:00Z'), payload: csv(broken) });
    expect(response.statusCode).toBe(202);
    const body = response.json();
    expect(body).toMatchObject({ accepted: 2, rejected: 1, events: 1 });
    expect(body.rejections[0]).toMatchObject({ code: 'INGEST_BAD_FIELD', field: 'IssueDate' });
    expect(body.snapshots[0]).toMatchObject({ partial: true, stale: false });
    expect(types(publisher.events.slice(3))).toEqual(['license.revoked:1']);
    expect(publisher.deadLetters.map((d) => d.code)).toEqual(['INGEST_BAD_FIELD']);
    // Only license 1 changed: 2 and 3 are carried over, so their entries stay as they are.
    expect(publisher.writes.at(-1)!.licenses.map((e) => `${e.licenseId}:${e.fact?.status ?? 'deleted'}`)).toEqual(['1:revoked']);
  });

  it('refuses an export with no rows and one where no row can be read', async () => {
    const { app, publisher } = build();
    const headerOnly = await app.inject({ method: 'POST', url: '/v1/snapshots/issued-licenses', headers: snapshotHeaders('2024-06-01T00:00:00Z'), payload: csv([]) });
    expect(headerOnly.statusCode).toBe(400);
    expect(headerOnly.json().error.code).toBe('COLLECTOR_EMPTY_SNAPSHOT');
    const garbage = await app.inject({
      method: 'POST',
      url: '/v1/snapshots/issued-licenses',
      headers: snapshotHeaders('2024-06-01T00:00:00Z'),
      payload: '"LicenseId","sHardwareId"\n"abc",\n"x","y","z"\n',
    });
    expect(garbage.statusCode).toBe(400);
    expect(garbage.json()).toMatchObject({ error: { code: 'COLLECTOR_UNPARSEABLE' }, accepted: 0 });
    expect(garbage.json().rejected).toBeGreaterThan(0);
    expect(publisher.deadLetters.length).toBe(garbage.json().rejected);
    expect(publisher.events).toEqual([]);
  });

  it('applies key-pack snapshots and refuses older ones', async () => {
    const { app, publisher } = build();
    const packs = buildKeyPacksCsv('LS01', [
      { keyPackId: 3, keyPackType: 2, productVersion: 'Windows Server 2019', productVersionId: 5, description: 'A02', typeAndModel: 'RDS Per Device CAL', totalLicenses: 50, availableLicenses: 10, issuedLicenses: 40 },
    ]);
    const headers = (time: string) => ({ ...AUTH, 'content-type': 'text/csv', 'x-calwatch-snapshot-time': time });
    const first = await app.inject({ method: 'POST', url: '/v1/snapshots/keypacks', headers: headers('2024-06-02T00:00:00Z'), payload: packs });
    expect(first.statusCode).toBe(202);
    expect(publisher.events.map((e) => e.type)).toEqual(['keypack.inventory']);
    const older = await app.inject({ method: 'POST', url: '/v1/snapshots/keypacks', headers: headers('2024-06-01T00:00:00Z'), payload: packs });
    expect(older.json()).toMatchObject({ stale: true, events: 0 });
    expect(publisher.events.length).toBe(1);
  });
});

describe('events', () => {
  it('publishes canonical NDJSON and dead-letters the lines that are not events', async () => {
    const { app, publisher } = build();
    const lines = [JSON.stringify(buildClientStoreEvent(1)), '{"schemaVersion":1,"eventId":"nope"}', 'not json at all', JSON.stringify(buildClientStoreEvent(2))];
    const response = await app.inject({ method: 'POST', url: '/v1/events', headers: { ...AUTH, 'content-type': 'application/x-ndjson' }, payload: `${lines.join('\n')}\n` });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ accepted: 2, rejected: 2, events: 2 });
    expect(publisher.events.map((e) => e.eventId)).toEqual([buildClientStoreEvent(1).eventId, buildClientStoreEvent(2).eventId]);
    expect(publisher.deadLetters.map((d) => d.location.line)).toEqual([2, 3]);
    expect(Buffer.from(publisher.deadLetters[1]!.originalBase64, 'base64').toString()).toBe('not json at all');
  });

  it('dead-letters snapshot rows posted to the events endpoint', async () => {
    const { app, publisher } = build();
    const json = JSON.stringify([{ PSComputerName: 'LS01', LicenseId: 1, KeyPackId: 3, sHardwareId: '0x0a', sIssuedToComputer: 'PC', LicenseStatus: 2, IssueDate: '2024-01-01T00:00:00Z' }]);
    const response = await app.inject({ method: 'POST', url: '/v1/events', headers: { ...AUTH, 'content-type': 'application/json' }, payload: json });
    expect(response.statusCode).toBe(400);
    expect(publisher.deadLetters.map((d) => d.code)).toEqual(['COLLECTOR_WRONG_ENDPOINT']);
  });

  it('never crashes on hostile input: binary, deep nesting, entity expansion, huge lines', async () => {
    const { app, publisher } = build();
    const bodies: Array<[string, string | Buffer]> = [
      ['application/x-ndjson', Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 256))],
      ['application/x-ndjson', `${'['.repeat(100_000)}\n`],
      ['application/xml', '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Events><Event>&lol2;</Event></Events>'],
      ['application/x-ndjson', `{"a":"${'x'.repeat(900_000)}"}\n`],
      ['application/xml', '<Event><System><EventID>20</EventID></System>'],
    ];
    for (const [type, payload] of bodies) {
      const before = publisher.deadLetters.length;
      const response = await app.inject({ method: 'POST', url: '/v1/events', headers: { ...AUTH, 'content-type': type }, payload });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toMatch(/^COLLECTOR_/);
      expect(publisher.deadLetters.length).toBeGreaterThan(before);
      for (const letter of publisher.deadLetters.slice(before)) expect(letter.reason.length).toBeGreaterThan(0);
    }
    expect(publisher.events).toEqual([]);
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('real export and event formats', () => {
  const fixture = (path: string) => readFileSync(new URL(`../../../test/fixtures/${path}`, import.meta.url));
  const cases: Array<[string, string, string, string]> = [
    ['/v1/snapshots/issued-licenses', 'text/csv', 'wmi/issued-licenses.ps51.csv', 'license.issued'],
    ['/v1/snapshots/issued-licenses', 'application/json', 'wmi/issued-licenses.ps7-cim.json', 'license.issued'],
    ['/v1/snapshots/keypacks', 'text/csv', 'wmi/keypacks.ps51.csv', 'keypack.inventory'],
    ['/v1/events', 'application/x-ndjson', 'events/licensing.winlogbeat.ndjson', 'service.event'],
    ['/v1/events', 'application/xml', 'events/licensing.wevtutil.xml', 'service.event'],
    ['/v1/events', 'application/xml', 'events/licensing.events-root.utf16le.xml', 'service.event'],
    ['/v1/events', 'application/x-ndjson', 'canonical/events.ndjson', 'service.event'],
    ['/v1/client-stores', 'application/x-ndjson', 'client-store/stores.ndjson', 'client.store'],
  ];
  it.each(cases)('%s takes %s (%s)', async (url, type, path, eventType) => {
    const { app, publisher } = build();
    const response = await app.inject({ method: 'POST', url, headers: { ...AUTH, 'content-type': type, 'x-calwatch-license-server': 'LS01' }, payload: fixture(path) });
    expect(response.statusCode).toBe(202);
    const body = response.json();
    expect(body.accepted).toBeGreaterThan(0);
    expect(body.events).toBe(publisher.events.length);
    expect(publisher.events.map((e) => e.type)).toContain(eventType);
    expect(publisher.deadLetters.length).toBe(body.rejected);
  });
});

describe('back-pressure', () => {
  it('answers 429 with Retry-After once the in-flight budget is used, and serves again after', async () => {
    const { app, publisher } = build({ maxInFlightRequests: 1 });
    const release = publisher.hold();
    const payload = `${JSON.stringify(buildClientStoreEvent(1))}\n`;
    const headers = { ...AUTH, 'content-type': 'application/x-ndjson' };
    const slow = app.inject({ method: 'POST', url: '/v1/events', headers, payload });
    // The first request holds the budget once it is publishing (and held there).
    await waitFor(() => publisher.calls === 1, 2_000, 'the first request to reach the held publisher', { intervalMs: 5 });
    const refused = await app.inject({ method: 'POST', url: '/v1/events', headers, payload });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['retry-after']).toBe('7');
    expect(refused.json().error.code).toBe('COLLECTOR_BUSY');
    release();
    expect((await slow).statusCode).toBe(202);
    expect((await app.inject({ method: 'POST', url: '/v1/events', headers, payload })).statusCode).toBe(202);
  });

  it('answers 503 when Kafka fails, then refuses fast until the retry interval passed', async () => {
    const { app, publisher } = build({ retryIntervalMs: 60_000 });
    publisher.failNext(COLLECTOR_ERRORS.create('COLLECTOR_KAFKA_UNAVAILABLE', 'broker down'));
    const headers = { ...AUTH, 'content-type': 'application/x-ndjson' };
    const payload = `${JSON.stringify(buildClientStoreEvent(1))}\n`;
    const failed = await app.inject({ method: 'POST', url: '/v1/events', headers, payload });
    expect(failed.statusCode).toBe(503);
    expect(failed.headers['retry-after']).toBe('7');
    expect(failed.json().error.code).toBe('COLLECTOR_KAFKA_UNAVAILABLE');
    const calls = publisher.calls;
    const fast = await app.inject({ method: 'POST', url: '/v1/events', headers, payload });
    expect(fast.statusCode).toBe(503);
    expect(publisher.calls).toBe(calls);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
  });

  it('answers 503 while the state is not restored', async () => {
    const { app, serving } = build();
    serving.value = false;
    const response = await app.inject({ method: 'POST', url: '/v1/events', headers: { ...AUTH, 'content-type': 'application/x-ndjson' }, payload: '{}\n' });
    expect(response.statusCode).toBe(503);
    expect(response.json().error.code).toBe('COLLECTOR_NOT_READY');
  });
});

describe('metrics', () => {
  it('counts requests by route and status and records by outcome', async () => {
    const { app } = build();
    await app.inject({ method: 'POST', url: '/v1/events', headers: { ...AUTH, 'content-type': 'application/x-ndjson' }, payload: `${JSON.stringify(buildClientStoreEvent(1))}\nnope\n` });
    await app.inject({ method: 'POST', url: '/v1/events', headers: { 'content-type': 'application/x-ndjson' }, payload: '{}' });
    const text = (await app.inject({ url: '/metrics' })).body;
    expect(text).toMatch(/calwatch_collector_http_requests_total\{route="\/v1\/events",status="202"\} 1/);
    expect(text).toMatch(/calwatch_collector_http_requests_total\{route="\/v1\/events",status="401"\} 1/);
    expect(text).toMatch(/calwatch_collector_records_total\{outcome="accepted",code="OK",source="canonical"\} 1/);
    expect(text).toMatch(/calwatch_collector_records_total\{outcome="rejected",code="INGEST_[A-Z_]+",source="parser"\} 1/);
    expect(text).toContain('calwatch_collector_in_flight_requests 0');
  });
});

/**
 * Sends a request with its path exactly as given (no normalisation), like `curl --path-as-is`.
 * A connection closed without an answer counts as 400: Node refuses a malformed request line
 * with 400 or, when the body is still arriving, by closing the socket.
 */
function rawRequest(port: number, method: string, path: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.message === 'socket hang up') resolve(400);
      else reject(new Error(`${method} ${path}: ${error.message}`));
    });
    request.end(body);
  });
}

/** Spellings of one route path that a router or proxy might read as that route, or not. */
function pathVariants(url: string): string[] {
  const segments = url.split('/').slice(1);
  const encodeChar = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  const variants = new Set<string>([
    url,
    url.replace('/v1/', '/%761/'),
    url.replace('/v1/', '/v%31/'),
    url.replace('/v1/', '/%56%31/'),
    `/${segments.map((s) => [...s].map(encodeChar).join('')).join('/')}`,
    `/${segments.map((s) => [...s].map((c) => encodeChar(c).toUpperCase()).join('')).join('/')}`,
    url.replaceAll('/', '%2f'),
    url.replace('/v1/', '/v1%2F'),
    `/${url}`,
    url.replace('/v1/', '/v1//'),
    `${url}/`,
    url.replace('/v1/', '/v1/./'),
    url.replace('/v1/', '/x/../v1/'),
    url.replace('/v1/', '/v1/%2e/'),
    url.replace('/v1/', '/x/%2e%2e/v1/'),
    `${url}/.`,
    url.toUpperCase(),
    url.replace('/v1/', '/V1/'),
    `/${segments.map((s) => s[0]!.toUpperCase() + s.slice(1)).join('/')}`,
    `${url}?x=1`,
    `${url};x=1`,
    `${url}%00`,
    `${url}#frag`,
  ]);
  return [...variants];
}

describe('authentication is decided by the route reached, not by the URL text', () => {
  const keyPacks = buildKeyPacksCsv('LS01', [
    { keyPackId: 3, keyPackType: 2, productVersion: 'Windows Server 2019', productVersionId: 5, description: 'A02', typeAndModel: 'RDS Per Device CAL', totalLicenses: 50, availableLicenses: 10, issuedLicenses: 40 },
  ]);
  const bodies: Record<string, { type: string; body: string }> = {
    '/v1/snapshots/issued-licenses': { type: 'text/csv', body: csv() },
    '/v1/snapshots/keypacks': { type: 'text/csv', body: keyPacks },
    '/v1/events': { type: 'application/x-ndjson', body: `${JSON.stringify(buildClientStoreEvent(1))}\n` },
    '/v1/client-stores': { type: 'application/x-ndjson', body: `${JSON.stringify({ computer: 'PC-1', hwids: ['0x0a0b'], licenseServer: 'LS01' })}\n` },
  };

  it('walks every ingest route in encoded, doubled-slash, dot-segment and case spellings: nothing is published without a token', async () => {
    expect(Object.keys(bodies).sort()).toEqual(INGEST_ROUTES.map((r) => r.url).sort());
    const { app, publisher } = build({ limits: { maxClockSkewMs: DEFAULT_MAX_EVENT_TIME_SKEW_MS } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const reached: string[] = [];
    for (const route of INGEST_ROUTES) {
      const { type, body } = bodies[route.url]!;
      for (const path of pathVariants(route.url)) {
        for (const method of ['POST', 'post', 'PUT']) {
          const before = { calls: publisher.calls, events: publisher.events.length, deadLetters: publisher.deadLetters.length, writes: publisher.writes.length };
          const anonymous = await rawRequest(port, method, path, { 'content-type': type }, body);
          const bogus = await rawRequest(port, method, path, { 'content-type': type, authorization: 'Bearer not-a-token-0123456789' }, body);
          // Whatever the spelling: no token, no success.
          expect([anonymous, bogus], `${method} ${path}`).not.toContain(202);
          for (const status of [anonymous, bogus]) expect(status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
          const after = { calls: publisher.calls, events: publisher.events.length, deadLetters: publisher.deadLetters.length, writes: publisher.writes.length };
          expect(after, `${method} ${path}`).toEqual(before);
          // With a token the same spelling either reaches the route (so, without one, it was
          // refused by authentication) or is refused as reaching no route (404, or 400 / a closed
          // connection for a request line Node itself refuses), with and without a token.
          const authorized = await rawRequest(port, method, path, { 'content-type': type, ...AUTH }, body);
          if (authorized >= 200 && authorized < 300) {
            expect([anonymous, bogus], `${method} ${path}`).toEqual([401, 401]);
            reached.push(`${method} ${path}`);
          } else {
            expect([400, 404], `${method} ${path}`).toContain(authorized);
            for (const status of [anonymous, bogus]) expect([400, 401, 404], `${method} ${path}`).toContain(status);
          }
        }
      }
    }
    // The walk means something only if some odd spellings do reach a route (the router decodes).
    expect(reached).toContain('POST /%761/snapshots/issued-licenses');
    expect(reached).toContain('POST /v%31/events');
  });

  it('answers unknown paths 404 without reading the body', async () => {
    const { app } = build();
    let read = 0;
    const body = new Readable({
      read() {
        read += 1;
        this.push(read > 1000 ? null : Buffer.alloc(1024, 0x61));
      },
    });
    const response = await app.inject({ method: 'POST', url: '/v2/snapshots/issued-licenses', headers: { 'content-type': 'text/csv', 'transfer-encoding': 'chunked' }, payload: body });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('COLLECTOR_NOT_FOUND');
    expect(response.headers.connection).toBe('close');
    expect(read).toBeLessThan(1000);
  });
});

describe('tokens scoped to license servers', () => {
  const SCOPED = 'scoped-token-0123456789abcdef';
  const scoped = { authorization: `Bearer ${SCOPED}` };

  it('lets a scoped token post its own servers and refuses another server with 403, publishing nothing of it', async () => {
    const { app, publisher } = build({ tokenEntries: [TOKEN, `${SCOPED}=ls01|LS03.corp.example`] });
    const own = await app.inject({ method: 'POST', url: '/v1/snapshots/issued-licenses', headers: { ...scoped, 'content-type': 'text/csv' }, payload: csv() });
    expect(own.statusCode).toBe(202);
    const ownEvents = publisher.events.length;
    expect(ownEvents).toBeGreaterThan(0);

    // Named by the rows only.
    const rowsOfLs02 = await app.inject({
      method: 'POST',
      url: '/v1/snapshots/issued-licenses',
      headers: { ...scoped, 'content-type': 'text/csv' },
      payload: buildIssuedLicensesCsv('LS02', rows(3)),
    });
    expect(rowsOfLs02.statusCode).toBe(403);
    expect(rowsOfLs02.json().error.code).toBe('COLLECTOR_FORBIDDEN');
    // Named by the header: refused before the body is read.
    const headerLs02 = await app.inject({
      method: 'POST',
      url: '/v1/snapshots/issued-licenses',
      headers: { ...scoped, 'content-type': 'text/csv', 'x-calwatch-license-server': 'LS02' },
      payload: buildIssuedLicensesCsv('LS02', rows(3)),
    });
    expect(headerLs02.statusCode).toBe(403);
    // Events of another server, after one of its own.
    const mixed = [buildClientStoreEvent(1, 'LS01'), buildClientStoreEvent(2, 'LS02')].map((e) => JSON.stringify(e)).join('\n');
    const events = await app.inject({ method: 'POST', url: '/v1/events', headers: { ...scoped, 'content-type': 'application/x-ndjson' }, payload: `${mixed}\n` });
    expect(events.statusCode).toBe(403);
    expect(publisher.events.filter((e) => e.licenseServer === 'LS02')).toEqual([]);
    expect(publisher.writes.every((w) => !JSON.stringify(w).includes('LS02'))).toBe(true);

    // The unscoped token still posts any server.
    const any = await app.inject({ method: 'POST', url: '/v1/snapshots/issued-licenses', headers: snapshotHeaders(NOW.toISOString()), payload: buildIssuedLicensesCsv('LS02', rows(3)) });
    expect(any.statusCode).toBe(202);
    const text = await app.inject({ url: '/metrics' });
    expect(text.body).toMatch(/calwatch_collector_auth_failures_total\{reason="forbidden"\} 3/);
  });
});

describe('failed authentications', () => {
  it('are limited per client address (429 with Retry-After) and counted', async () => {
    const { app } = build({ authMaxFailures: 3 });
    const post = (remoteAddress: string, authorization?: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/client-stores',
        remoteAddress,
        headers: { 'content-type': 'application/x-ndjson', ...(authorization === undefined ? {} : { authorization }) },
        payload: `${JSON.stringify({ computer: 'PC-1', hwids: ['0x0a0b'], licenseServer: 'LS01' })}\n`,
      });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post('10.0.0.1', 'Bearer guessed-token-0123456789')).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const limited = await post('10.0.0.1', AUTH.authorization);
    // While limited, even a valid token waits: the address is not told which guess was right.
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('COLLECTOR_AUTH_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected.
    expect((await post('10.0.0.2', AUTH.authorization)).statusCode).toBe(202);
    const text = (await app.inject({ url: '/metrics' })).body;
    expect(text).toMatch(/calwatch_collector_auth_failures_total\{reason="invalid"\} 3/);
    expect(text).toMatch(/calwatch_collector_auth_failures_total\{reason="rate-limited"\} 3/);
  });
});

describe('dead letters fit the topic', () => {
  it('cuts the original of a huge malformed event to a prefix and records its length', async () => {
    const { app, publisher } = build({ limits: { maxBodyBytes: 8_000_000, maxDecompressedBytes: 8_000_000 } });
    const spaces = ' '.repeat(3_000_000);
    const body = `<Events><Event><System>${spaces}<a></b></System></Event>${readFileSync(new URL('../../../test/fixtures/events/licensing.wevtutil.xml', import.meta.url), 'utf8').replace(/^[\s\S]*?<Event/, '<Event')}`;
    const response = await app.inject({ method: 'POST', url: '/v1/events', headers: { ...AUTH, 'content-type': 'application/xml', 'content-encoding': 'gzip' }, payload: gzipSync(body) });
    expect(response.statusCode).toBe(202);
    const letter = publisher.deadLetters.find((d) => d.code === 'INGEST_XML_SYNTAX')!;
    expect(letter).toBeDefined();
    expect(Buffer.byteLength(JSON.stringify(letter))).toBeLessThan(256 * 1024);
    expect(letter.originalBytes).toBeGreaterThan(3_000_000);
    expect(Buffer.from(letter.originalBase64, 'base64').toString().startsWith('<Event><System>')).toBe(true);
  });
});

describe('event time bound', () => {
  it('dead-letters an event more than the skew past the collector clock and publishes the rest', async () => {
    const { app, publisher } = build();
    const future = { ...buildClientStoreEvent(2), eventTime: '2999-01-01T00:00:00.000Z' };
    const justInside = { ...buildClientStoreEvent(3), eventTime: new Date(NOW.getTime() + DEFAULT_MAX_EVENT_TIME_SKEW_MS).toISOString() };
    const lines = [buildClientStoreEvent(1), future, justInside].map((e) => JSON.stringify(e)).join('\n');
    const response = await app.inject({ method: 'POST', url: '/v1/events', headers: { ...AUTH, 'content-type': 'application/x-ndjson' }, payload: `${lines}\n` });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ accepted: 2, rejected: 1 });
    expect(publisher.events.map((e) => e.eventId)).toEqual([buildClientStoreEvent(1).eventId, justInside.eventId]);
    expect(publisher.deadLetters.map((d) => [d.code, d.location.field])).toEqual([['COLLECTOR_EVENT_TIME_AHEAD', 'eventTime']]);
    expect(JSON.parse(Buffer.from(publisher.deadLetters[0]!.originalBase64, 'base64').toString()).eventId).toBe(future.eventId);
  });
});


/** Opens a raw connection, writes `text`, and resolves with what the server sent once it closed the connection. */
function stallingClient(port: number, text: string): { closed: Promise<string> } {
  const socket = connect({ host: '127.0.0.1', port });
  let received = '';
  socket.on('data', (data) => {
    received += data.toString();
  });
  socket.write(text);
  return {
    closed: new Promise((resolve) => {
      socket.on('close', () => resolve(received));
      socket.on('error', () => undefined);
    }),
  };
}

describe('resource limits', () => {
  const timeouts = { requestTimeoutMs: 1_500, headersTimeoutMs: 300, idleTimeoutMs: 1_000, keepAliveTimeoutMs: 200 };

  it('closes a connection whose headers never finish', async () => {
    const { app } = build({ limits: timeouts });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const client = stallingClient((app.server.address() as AddressInfo).port, 'POST /v1/events HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    const started = Date.now();
    const answer = await client.closed;
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
    expect(Date.now() - started).toBeLessThan(timeouts.requestTimeoutMs + 1_000);
  });

  it('cuts off a body that trickles in, so slow uploads cannot hold the in-flight slots', async () => {
    const { app, publisher } = build({ limits: timeouts, maxInFlightRequests: 1 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 100000\r\n\r\n`);
    // One byte every 100 ms: never idle long enough for the idle timeout, only the request timeout stops it.
    const trickle = setInterval(() => socket.write(' '), 100);
    try {
      await closed;
    } finally {
      clearInterval(trickle);
    }
    // The slot is free again.
    const next = await app.inject({ method: 'POST', url: '/v1/events', headers: { ...AUTH, 'content-type': 'application/x-ndjson' }, payload: `${JSON.stringify(buildClientStoreEvent(1))}\n` });
    expect(next.statusCode).toBe(202);
    expect(publisher.events).toHaveLength(1);
  });

  it('counts decoded bytes of chunked and gzip bodies in the in-flight budget', async () => {
    const { app, publisher } = build({ maxInFlightBytes: 20_000 });
    const release = publisher.hold();
    const lines = Array.from({ length: 80 }, (_, i) => JSON.stringify(buildClientStoreEvent(i + 1))).join('\n');
    expect(lines.length).toBeGreaterThan(20_000);
    // Declared as a few hundred bytes of gzip, sent chunked: only its decoded size tells what it holds.
    const zipped = gzipSync(`${lines}\n`);
    const big = app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { ...AUTH, 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip', 'transfer-encoding': 'chunked' },
      payload: Readable.from([zipped.subarray(0, 100), zipped.subarray(100)]),
    });
    await waitFor(() => publisher.calls > 0, 5_000, 'the first publish', { intervalMs: 5 });
    const callsBefore = publisher.calls;
    const small = app.inject({ method: 'POST', url: '/v1/events', headers: { ...AUTH, 'content-type': 'application/x-ndjson' }, payload: `${JSON.stringify(buildClientStoreEvent(999))}\n` });
    let smallDone = false;
    void small.then(() => {
      smallDone = true;
    });
    // Refused at once, or (without decoded bytes in the budget) let through to publish.
    await waitFor(() => smallDone || publisher.calls > callsBefore, 5_000, 'the small request or another publish', { intervalMs: 5 });
    release();
    expect((await small).statusCode).toBe(429);
    expect((await big).statusCode).toBe(202);
  });
});
