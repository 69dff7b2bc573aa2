import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, ensureCalwatchTopics, type IncomingRecord, type KafkaClient } from '@calwatch/kafka';
import { CanonicalEvent, DeadLetter, buildTopicNames, type TopicNames } from '@calwatch/model';
import { createSilentLogger } from '@calwatch/runtime';
import { INGEST_ROUTES, createCollectorService, loadCollectorConfig, type CollectorService } from '@calwatch/collector';
import { buildClientStoreEvent, buildIssuedLicenseRow, buildIssuedLicensesCsv } from '@calwatch/collector/testing';
import { deleteTopicsWithPrefix } from '../harness/cleanup';
import { buildTestEnv, getTestServices, uniqueName } from '../harness/services';
import { readTopicToEnd } from '../harness/topic-reader';

const TOKEN = 'security-token-0123456789abcdef';
const SCOPED = 'scoped-token-0123456789abcdef';
const PARTITIONS = 3;

let kafka: KafkaClient;
let topics: TopicNames;
let service: CollectorService;
let port: number;
let prefix: string;

/** Sends the path exactly as given, like `curl --path-as-is`; a connection closed without an answer reads as 400. */
function send(method: string, path: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, method, path, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.message === 'socket hang up' ? resolve(400) : reject(error)));
    request.end(body);
  });
}

function readTopic(topic: string): Promise<IncomingRecord[]> {
  return readTopicToEnd(kafka, topic, PARTITIONS);
}

async function readEvents(): Promise<CanonicalEvent[]> {
  return (await readTopic(topics.events)).map((record) => CanonicalEvent.parse(JSON.parse(record.value!.toString('utf8'))));
}

const rows = Array.from({ length: 3 }, (_, i) => buildIssuedLicenseRow(i + 1));
const bodies: Record<string, { type: string; body: string }> = {
  '/v1/snapshots/issued-licenses': { type: 'text/csv', body: buildIssuedLicensesCsv('LS01', rows) },
  '/v1/snapshots/keypacks': { type: 'text/csv', body: buildIssuedLicensesCsv('LS01', rows) },
  '/v1/events': { type: 'application/x-ndjson', body: `${JSON.stringify(buildClientStoreEvent(1))}\n` },
  '/v1/client-stores': { type: 'application/x-ndjson', body: `${JSON.stringify({ computer: 'PC-1', hwids: ['0x0a0b'], licenseServer: 'LS01' })}\n` },
};

function spellings(url: string): string[] {
  const rest = url.slice('/v1/'.length);
  return [
    `/%761/${rest}`,
    `/v%31/${rest}`,
    `/%76%31/${rest}`,
    `/v1/${[...rest].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('')}`,
    `//v1/${rest}`,
    `/v1//${rest}`,
    `/v1/./${rest}`,
    `/x/../v1/${rest}`,
    `/v1/%2e/${rest}`,
    `/V1/${rest.toUpperCase()}`,
    `${url}?token=x`,
  ];
}

beforeAll(async () => {
  const env = buildTestEnv(
    {
      COLLECTOR_TOKENS: `${TOKEN},${SCOPED}=LS01`,
      COLLECTOR_HOST: '127.0.0.1',
      COLLECTOR_PORT: '0',
      CALWATCH_TOPIC_PARTITIONS: String(PARTITIONS),
      LOG_LEVEL: 'silent',
      // Every refused request of the walk counts as a failure from 127.0.0.1.
      COLLECTOR_AUTH_MAX_FAILURES: '100000',
    },
    uniqueName('collector-security'),
  );
  kafka = createKafkaClient({ connection: getTestServices().kafka, logger: createSilentLogger() });
  prefix = env.CALWATCH_TOPIC_PREFIX!;
  topics = buildTopicNames(prefix);
  await ensureCalwatchTopics(kafka, topics, { partitions: PARTITIONS, retentionMs: 3_600_000, deadLetterRetentionMs: 3_600_000 });
  service = createCollectorService({ config: loadCollectorConfig(env), logger: createSilentLogger(), kafka, defaultMetrics: false });
  await service.start();
  port = service.address()!.port;
});

afterAll(async () => {
  await service?.stop().catch(() => undefined);
  await deleteTopicsWithPrefix(kafka, prefix);
});

describe('collector security on a real broker', () => {
  it('publishes nothing to Kafka for any spelling of any ingest route without a token', async () => {
    expect(Object.keys(bodies).sort()).toEqual(INGEST_ROUTES.map((r) => r.url).sort());
    for (const route of INGEST_ROUTES) {
      const { type, body } = bodies[route.url]!;
      for (const path of [route.url, ...spellings(route.url)]) {
        for (const authorization of [undefined, 'Bearer wrong-token-0123456789abcdef']) {
          const status = await send('POST', path, { 'content-type': type, ...(authorization === undefined ? {} : { authorization }) }, body);
          expect(status, `${path} ${authorization ?? '(no token)'}`).toBeGreaterThanOrEqual(400);
        }
      }
    }
    expect(await readTopic(topics.events)).toEqual([]);
    expect(await readTopic(topics.snapshotState)).toEqual([]);
    expect(await readTopic(topics.deadLetter)).toEqual([]);
    // The same encoded spelling with the token does reach the route: the reads above would see it.
    const route = '/v1/snapshots/issued-licenses';
    expect(await send('POST', `/%761/snapshots/issued-licenses`, { 'content-type': 'text/csv', authorization: `Bearer ${TOKEN}` }, bodies[route]!.body)).toBe(202);
    expect((await readEvents()).filter((e) => e.licenseServer === 'LS01')).toHaveLength(3);
  });

  it('refuses a token scoped to LS01 posting LS02 data with 403, and nothing of LS02 reaches Kafka', async () => {
    const headers = { 'content-type': 'text/csv', authorization: `Bearer ${SCOPED}` };
    expect(await send('POST', '/v1/snapshots/issued-licenses', headers, buildIssuedLicensesCsv('LS02', rows))).toBe(403);
    expect(await send('POST', '/v1/snapshots/issued-licenses', { ...headers, 'x-calwatch-license-server': 'LS02' }, buildIssuedLicensesCsv('LS02', rows))).toBe(403);
    const events = [buildClientStoreEvent(7, 'LS02')].map((e) => JSON.stringify(e)).join('\n');
    expect(await send('POST', '/v1/events', { 'content-type': 'application/x-ndjson', authorization: `Bearer ${SCOPED}` }, `${events}\n`)).toBe(403);
    expect((await readEvents()).filter((e) => e.licenseServer === 'LS02')).toEqual([]);
    const state = await readTopic(topics.snapshotState);
    expect(state.filter((r) => r.key !== null && r.key.includes('LS02'))).toEqual([]);
  });

  it('dead-letters an event dated 2999 as COLLECTOR_EVENT_TIME_AHEAD instead of publishing it', async () => {
    const future = { ...buildClientStoreEvent(42, 'LS03'), eventTime: '2999-01-01T00:00:00.000Z' };
    const good = buildClientStoreEvent(43, 'LS03');
    const body = `${JSON.stringify(future)}\n${JSON.stringify(good)}\n`;
    expect(await send('POST', '/v1/events', { 'content-type': 'application/x-ndjson', authorization: `Bearer ${TOKEN}` }, body)).toBe(202);
    expect((await readEvents()).filter((e) => e.licenseServer === 'LS03').map((e) => e.eventId)).toEqual([good.eventId]);
    const letters = (await readTopic(topics.deadLetter)).map((r) => DeadLetter.parse(JSON.parse(r.value!.toString('utf8'))));
    expect(letters.map((l) => l.code)).toEqual(['COLLECTOR_EVENT_TIME_AHEAD']);
    expect(JSON.parse(Buffer.from(letters[0]!.originalBase64, 'base64').toString()).eventId).toBe(future.eventId);
  });
});
