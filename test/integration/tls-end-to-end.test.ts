/**
 * TLS and authentication on every hop, end to end: a collector on HTTPS publishes to a
 * Kafka broker on SASL_SSL (SCRAM-SHA-512), the processor and the indexer read it over the
 * same, and the indexer writes to Elasticsearch on HTTPS as the least-privilege writer that
 * `calwatch setup` describes; a Kibana reader finds the findings. Runs its own throw-away
 * broker and node (tls-throwaway-stack.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createElasticsearchClient } from '@calwatch/elasticsearch';
import { createKafkaClient, type KafkaClient } from '@calwatch/kafka';
import { createSilentLogger, elasticsearchEnvShape, loadConfig, toElasticsearchConnection, toKafkaConnection } from '@calwatch/runtime';
import { parseMix, simulateFleet } from '@calwatch/simulator';
import { createCollectorService, loadCollectorConfig, type CollectorService } from '@calwatch/collector';
import { buildIndexNames } from '@calwatch/indexer';
import { COMMANDS, type CommandIo, type PipelineServices } from '@calwatch/cli';
import { startTestPipeline } from './pipeline-services';
import { httpRequest } from '@calwatch/stack';
import { uniqueName } from '../harness/services';
import { createTextSink } from '../harness/text-sink';
import { waitFor } from '../harness/wait-for';
import { startTlsStack, type TlsStack } from './tls-throwaway-stack';

const TOKEN = 'tls-end-to-end-token-0123456789';
const DAY_MS = 86_400_000;

let stack: TlsStack;
let kafka: KafkaClient | undefined;
let collector: CollectorService | undefined;
let pipeline: PipelineServices | undefined;

beforeAll(async () => {
  stack = await startTlsStack();
}, 240_000);

afterAll(async () => {
  await pipeline?.stop().catch(() => undefined);
  await collector?.stop().catch(() => undefined);
  await stack?.destroy();
}, 120_000);

function serviceEnv(name: string): Record<string, string> {
  return {
    KAFKA_BROKERS: stack.kafka.brokers.join(','),
    KAFKA_CLIENT_ID: 'calwatch-tls-test',
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: stack.ca.caFile,
    KAFKA_SSL_CERT_FILE: stack.clientCertificate.certFile,
    KAFKA_SSL_KEY_FILE: stack.clientCertificate.keyFile,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: stack.kafka.client.username,
    KAFKA_SASL_PASSWORD: stack.kafka.client.password,
    ELASTICSEARCH_URL: stack.elasticsearch.url,
    ELASTICSEARCH_CA_FILE: stack.ca.caFile,
    ELASTICSEARCH_USERNAME: stack.elasticsearch.writer.username,
    ELASTICSEARCH_PASSWORD: stack.elasticsearch.writer.password,
    CALWATCH_TOPIC_PREFIX: `${name}.`,
    CALWATCH_INDEX_PREFIX: `${name}-`,
    CALWATCH_TOPIC_PARTITIONS: '2',
  };
}

describe('TLS on every hop', () => {
  it('carries a fleet from the HTTPS collector through Kafka SASL_SSL to Elasticsearch HTTPS', async () => {
    // Index names must fall under the roles' calwatch-* pattern.
    const name = uniqueName('calwatch-tls');
    const env = serviceEnv(name);

    // Topics over SASL_SSL, templates and indices as the writer (not a superuser).
    const stdout = createTextSink();
    const stderr = createTextSink();
    const io: CommandIo = { stdout, stderr, env, cwd: process.cwd(), signal: new AbortController().signal };
    const { command: setup } = await COMMANDS.setup!();
    expect(await setup.run([], io), stderr.text()).toBe(0);

    kafka = createKafkaClient({ connection: loadCollectorConfig({ ...env, COLLECTOR_TOKENS: TOKEN }).kafka, logger: createSilentLogger() });
    collector = createCollectorService({
      config: loadCollectorConfig({
        ...env,
        COLLECTOR_HOST: '127.0.0.1',
        COLLECTOR_PORT: '0',
        COLLECTOR_TOKENS: TOKEN,
        COLLECTOR_TLS_CERT_FILE: stack.collectorCertificate.certFile,
        COLLECTOR_TLS_KEY_FILE: stack.collectorCertificate.keyFile,
        COLLECTOR_TLS_CA_FILE: stack.ca.caFile,
      }),
      logger: createSilentLogger(),
      kafka,
      defaultMetrics: false,
    });
    await collector.start();
    const port = collector.address()!.port;
    // HTTPS only: a plain HTTP request gets no answer, and neither does a client without a certificate.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
    await expect(httpRequest(`https://localhost:${port}/healthz`, { caFile: stack.ca.caFile, method: 'GET' })).rejects.toThrow();

    pipeline = await startTestPipeline(env, name, kafka);

    // A small simulated fleet with cloned images, as canonical NDJSON over HTTPS.
    const nowMs = Date.now();
    const days = 5;
    const fleet = simulateFleet({
      seed: 11,
      devices: 30,
      days,
      start: new Date(Math.floor((nowMs - days * DAY_MS) / 60_000) * 60_000).toISOString(),
      mix: parseMix('cloned=2x3,vdi=5,deleter=2/3,rebuild=3'),
      pool: 22,
      snapshotIntervalMs: DAY_MS,
    });
    const lines = [...fleet.events()].map((event) => JSON.stringify(event));
    expect(lines.length).toBeGreaterThan(0);
    for (let i = 0; i < lines.length; i += 1_000) {
      const body = lines.slice(i, i + 1_000).join('\n') + '\n';
      const response = await httpRequest(`https://localhost:${port}/v1/events`, {
        caFile: stack.ca.caFile,
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' },
        body,
        client: stack.clientCertificate,
      });
      expect(response.status, response.body).toBe(202);
    }

    // The findings arrive, and a Kibana reader sees them.
    const findings = buildIndexNames(`${name}-`).findingsAlias;
    const count = await waitFor(
      async () => {
        const response = await stack.esRequest(stack.elasticsearch.reader, 'GET', `/${findings}/_count`);
        if (response.status !== 200) return undefined;
        const { count: found } = JSON.parse(response.body) as { count: number };
        return found > 0 && found;
      },
      60_000,
      `findings in ${findings}`,
      { intervalMs: 500 },
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\n${await stack.logTail()}`);
    });
    expect(count).toBeGreaterThan(0);
  }, 150_000);

  it('holds each Elasticsearch user to its role: the writer only calwatch-*, the reader nothing but reads, nobody without credentials', async () => {
    const { writer, reader } = stack.elasticsearch;
    expect((await stack.esRequest(writer, 'PUT', '/not-calwatch/_doc/1', { a: 1 })).status).toBe(403);
    expect((await stack.esRequest(writer, 'PUT', '/_security/user/intruder', { password: 'intruder-password', roles: ['superuser'] })).status).toBe(403);
    expect((await stack.esRequest(reader, 'PUT', '/calwatch-tls-reader-probe/_doc/1', { a: 1 })).status).toBe(403);
    expect((await stack.esRequest({ username: writer.username, password: 'wrong-password' }, 'GET', '/_cluster/health')).status).toBe(401);
  });

  it('checks the node against a pinned CA fingerprint', async () => {
    const connect = (fingerprint: string) =>
      createElasticsearchClient({
        connection: toElasticsearchConnection(
          loadConfig(z.object(elasticsearchEnvShape), {
            ELASTICSEARCH_URL: stack.elasticsearch.url,
            ELASTICSEARCH_CA_FILE: stack.ca.caFile,
            ELASTICSEARCH_CA_FINGERPRINT: fingerprint,
            ELASTICSEARCH_USERNAME: stack.elasticsearch.writer.username,
            ELASTICSEARCH_PASSWORD: stack.elasticsearch.writer.password,
          }),
        ),
        maxRetries: 0,
      });
    const pinned = connect(stack.ca.caFingerprint);
    const other = connect('00'.repeat(32));
    try {
      expect((await pinned.cluster.health()).status).toMatch(/green|yellow/);
      await expect(other.cluster.health()).rejects.toThrow(/fingerprint/i);
    } finally {
      await pinned.close();
      await other.close();
    }
  });

  it('produces and reads to the end with KAFKA_CLIENT=platformatic over SASL_SSL (SCRAM-SHA-512, client certificate)', async () => {
    const connection = loadCollectorConfig({ ...serviceEnv(uniqueName('calwatch-tls')), KAFKA_CLIENT: 'platformatic', COLLECTOR_TOKENS: TOKEN }).kafka;
    expect(connection.client).toBe('platformatic');
    const platformatic = createKafkaClient({ connection, logger: createSilentLogger() });
    const topic = uniqueName('tls-platformatic');
    const admin = await platformatic.createAdmin();
    try {
      await admin.ensureTopics([{ topic, numPartitions: 2, compacted: false }]);
      const producer = await platformatic.createProducer();
      const sent = Array.from({ length: 50 }, (_, i) => ({ topic, key: `server-${i % 5}`, value: `value-${i}` }));
      try {
        await producer.send(sent);
      } finally {
        await producer.close();
      }
      const read: string[] = [];
      const { records } = await platformatic.createPartitionReader().readToEnd(topic, [0, 1], (batch) => {
        for (const r of batch) read.push(r.value!.toString());
      });
      expect(records).toBe(sent.length);
      expect(read.sort()).toEqual(sent.map((r) => r.value).sort());
    } finally {
      await admin.deleteTopics([topic]).catch(() => undefined);
      await admin.close();
    }

    // A wrong password fails the producer at creation, for good: waiting cannot fix it.
    const wrong = createKafkaClient({
      connection: { ...connection, sasl: { ...connection.sasl!, password: 'not-the-password' } },
      logger: createSilentLogger(),
      retries: 0,
      requestTimeoutMs: 3_000,
    });
    await expect(wrong.createProducer()).rejects.toMatchObject({ code: 'SHARED_KAFKA_REQUEST_FAILED' });
  });

  it('refuses a Kafka client without SASL credentials', async () => {
    const anonymous = createKafkaClient({
      connection: { brokers: stack.kafka.brokers, clientId: 'anonymous', ssl: { caFile: stack.ca.caFile, ...stack.clientCertificate } },
      logger: createSilentLogger(),
      retries: 0,
      requestTimeoutMs: 3_000,
      connectionTimeoutMs: 3_000,
    });
    await expect(
      (async () => {
        const admin = await anonymous.createAdmin();
        try {
          await admin.listTopics();
        } finally {
          await admin.close();
        }
      })(),
    ).rejects.toThrow();
  });
});
