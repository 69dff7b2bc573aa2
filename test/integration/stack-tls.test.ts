/**
 * `calwatch stack up --tls` through the command itself, on a stack of its own (another state
 * dir, free ports; the shared stack is never touched): the CA and certificates, Kafka on
 * SASL_SSL and Elasticsearch on HTTPS, readiness and status over TLS, the refusal to switch a
 * running stack's mode, and a fleet carried collector HTTPS → Kafka → processor → indexer →
 * Elasticsearch HTTPS with nothing but the variables of the stack's env file. Stopped and
 * purged at the end; switching modes goes through down and up.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, type KafkaClient } from '@calwatch/kafka';
import { createSilentLogger, toKafkaConnection } from '@calwatch/runtime';
import { parseMix, simulateFleet } from '@calwatch/simulator';
import { createCollectorService, loadCollectorConfig, type CollectorService } from '@calwatch/collector';
import { buildIndexNames } from '@calwatch/indexer';
import { COMMANDS, type CommandIo, type PipelineServices } from '@calwatch/cli';
import { startTestPipeline } from './pipeline-services';
import { httpRequest, probeElasticsearch, probeKafka } from '@calwatch/stack';
import { freePort } from '../harness/free-port';
import { uniqueName } from '../harness/services';
import { createTextSink } from '../harness/text-sink';
import { waitFor } from '../harness/wait-for';

const TOKEN = 'stack-tls-token-0123456789abcdef';
const DAY_MS = 86_400_000;

let stateDir: string;
let stackSettings: NodeJS.ProcessEnv;
let stackEnv: Record<string, string>;
let kafka: KafkaClient | undefined;
let collector: CollectorService | undefined;
let pipeline: PipelineServices | undefined;

async function stack(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = createTextSink();
  const stderr = createTextSink();
  const io: CommandIo = { stdout, stderr, env: stackSettings, cwd: process.cwd(), signal: new AbortController().signal };
  const { command } = await COMMANDS.stack!();
  const code = await command.run(args, io);
  return { code, out: stdout.text(), err: stderr.text() };
}

/** What `set -a; . stack.env` gives a shell: the file is read by bash, not parsed here. */
function sourceEnvFile(file: string): Record<string, string> {
  const dump = execFileSync('bash', ['-c', `set -a; . '${file}'; env -0`], { encoding: 'utf8', env: {} });
  return Object.fromEntries(
    dump
      .split('\0')
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] as const)
      .filter(([name]) => /^(KAFKA|ELASTICSEARCH|COLLECTOR)_/.test(name)),
  );
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'calwatch-stack-tls-'));
  const [kafkaPort, controllerPort, esPort, transportPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  // The shared stack's cache (downloads, unpacked distribution) is reused; nothing else is.
  stackSettings = {
    ...process.env,
    CALWATCH_STACK_DIR: stateDir,
    CALWATCH_STACK_KAFKA_PORT: String(kafkaPort),
    CALWATCH_STACK_KAFKA_CONTROLLER_PORT: String(controllerPort),
    CALWATCH_STACK_ELASTICSEARCH_PORT: String(esPort),
    CALWATCH_STACK_ELASTICSEARCH_TRANSPORT_PORT: String(transportPort),
    CALWATCH_STACK_KAFKA_HEAP_MB: '384',
    CALWATCH_STACK_ELASTICSEARCH_HEAP_MB: '512',
    CALWATCH_STACK_START_TIMEOUT_MS: '150000',
    CALWATCH_STACK_STOP_GRACE_MS: '20000',
  };
  const up = await stack(['up', '--tls']);
  expect(up.code, up.out + up.err).toBe(0);
  expect(up.out).toContain('stack up with TLS');
  stackEnv = sourceEnvFile(join(stateDir, 'stack.env'));
}, 240_000);

afterAll(async () => {
  await pipeline?.stop().catch(() => undefined);
  await collector?.stop().catch(() => undefined);
  if (stateDir !== undefined) {
    const down = await stack(['down', '--purge']);
    expect(down.code, down.out + down.err).toBe(0);
    await rm(stateDir, { recursive: true, force: true });
  }
}, 120_000);

describe('calwatch stack up --tls', () => {
  it('writes an env file that connects over TLS with credentials, and nothing answers in clear', async () => {
    expect(stackEnv).toMatchObject({
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SSL_CA_FILE: join(stateDir, 'tls', 'ca.pem'),
      ELASTICSEARCH_CA_FILE: join(stateDir, 'tls', 'ca.pem'),
    });
    expect(stackEnv.ELASTICSEARCH_URL).toMatch(/^https:\/\//);
    const brokers = stackEnv.KAFKA_BROKERS!.split(',');
    const sasl = { mechanism: 'scram-sha-512' as const, username: stackEnv.KAFKA_SASL_USERNAME!, password: stackEnv.KAFKA_SASL_PASSWORD! };
    const ssl = { caFile: stackEnv.KAFKA_SSL_CA_FILE!, certFile: stackEnv.KAFKA_SSL_CERT_FILE!, keyFile: stackEnv.KAFKA_SSL_KEY_FILE! };
    expect((await probeKafka({ brokers, ssl, sasl }, { createTopic: false })).ok).toBe(true);
    // Plaintext, TLS without SASL, SASL with a wrong password, TLS without a client certificate: all refused.
    expect((await probeKafka({ brokers }, { createTopic: false })).ok).toBe(false);
    expect((await probeKafka({ brokers, ssl }, { createTopic: false })).ok).toBe(false);
    expect((await probeKafka({ brokers, ssl, sasl: { ...sasl, password: 'wrong-password-0123' } }, { createTopic: false })).ok).toBe(false);
    expect((await probeKafka({ brokers, ssl: { caFile: ssl.caFile }, sasl }, { createTopic: false })).ok).toBe(false);

    const auth = { username: stackEnv.ELASTICSEARCH_USERNAME!, password: stackEnv.ELASTICSEARCH_PASSWORD! };
    expect((await probeElasticsearch(stackEnv.ELASTICSEARCH_URL!, auth, { caFile: stackEnv.ELASTICSEARCH_CA_FILE! })).ok).toBe(true);
    // The system CAs do not know the stack's CA; plain HTTP gets no cluster health.
    expect((await probeElasticsearch(stackEnv.ELASTICSEARCH_URL!, auth)).ok).toBe(false);
    expect((await probeElasticsearch(stackEnv.ELASTICSEARCH_URL!.replace('https:', 'http:'), auth)).ok).toBe(false);
  });

  it('reports the TLS stack healthy, and refuses to switch its mode while it runs', async () => {
    const status = await stack(['status', '--json']);
    expect(status.code, status.out).toBe(0);
    const before = JSON.parse(status.out) as { components: Array<{ pid: number; tls: boolean; health: { ok: boolean } }>; info: { tls: { kafka: { password: string } } } };
    expect(before.components.map((c) => [c.tls, c.health.ok])).toEqual([
      [true, true],
      [true, true],
    ]);
    expect(before.info.tls.kafka.password).toBe('<redacted>');
    expect(status.out).not.toContain(stackEnv.KAFKA_SASL_PASSWORD);
    expect(status.out).not.toContain(stackEnv.ELASTICSEARCH_PASSWORD);

    const plain = await stack(['up']);
    expect(plain.code).not.toBe(0);
    expect(plain.err).toContain('STACK_MODE_MISMATCH');
    expect(plain.err).toContain("'calwatch stack down', then 'calwatch stack up'");

    const again = await stack(['up', '--tls']);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain('stack already running with TLS');
    const after = JSON.parse((await stack(['status', '--json'])).out) as typeof before;
    expect(after.components.map((c) => c.pid)).toEqual(before.components.map((c) => c.pid));
  });

  it('carries a fleet from the HTTPS collector through Kafka SASL_SSL to Elasticsearch HTTPS with the env file alone', async () => {
    const name = uniqueName('calwatch-stack-tls');
    const env = { ...stackEnv, KAFKA_CLIENT_ID: 'calwatch-stack-tls-test', CALWATCH_TOPIC_PREFIX: `${name}.`, CALWATCH_INDEX_PREFIX: `${name}-`, CALWATCH_TOPIC_PARTITIONS: '2' };

    const stdout = createTextSink();
    const stderr = createTextSink();
    const { command: setup } = await COMMANDS.setup!();
    expect(await setup.run([], { stdout, stderr, env, cwd: process.cwd(), signal: new AbortController().signal }), stderr.text()).toBe(0);

    // The collector's HTTPS certificate comes from the env file too.
    const collectorConfig = loadCollectorConfig({ ...env, COLLECTOR_HOST: '127.0.0.1', COLLECTOR_PORT: '0', COLLECTOR_TOKENS: TOKEN });
    expect(collectorConfig.tls.certFile).toBe(stackEnv.COLLECTOR_TLS_CERT_FILE);
    kafka = createKafkaClient({ connection: collectorConfig.kafka, logger: createSilentLogger() });
    collector = createCollectorService({ config: collectorConfig, logger: createSilentLogger(), kafka, defaultMetrics: false });
    await collector.start();
    const port = collector.address()!.port;
    await expect(fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();

    pipeline = await startTestPipeline(env, name, kafka);

    const nowMs = Date.now();
    const days = 4;
    const fleet = simulateFleet({
      seed: 12,
      devices: 20,
      days,
      start: new Date(Math.floor((nowMs - days * DAY_MS) / 60_000) * 60_000).toISOString(),
      mix: parseMix('cloned=2x3,vdi=4,rebuild=2'),
      pool: 15,
      snapshotIntervalMs: DAY_MS,
    });
    const body = [...fleet.events()].map((event) => JSON.stringify(event)).join('\n') + '\n';
    const posted = await httpRequest(`https://127.0.0.1:${port}/v1/events`, {
      method: 'POST',
      caFile: stackEnv.KAFKA_SSL_CA_FILE!,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' },
      body,
    });
    expect(posted.status, posted.body).toBe(202);

    const findings = buildIndexNames(`${name}-`).findingsAlias;
    const authorization = `Basic ${Buffer.from(`${stackEnv.ELASTICSEARCH_USERNAME!}:${stackEnv.ELASTICSEARCH_PASSWORD!}`).toString('base64')}`;
    await waitFor(
      async () => {
        const response = await httpRequest(`${stackEnv.ELASTICSEARCH_URL!}/${findings}/_count`, { caFile: stackEnv.ELASTICSEARCH_CA_FILE!, headers: { authorization } });
        return response.status === 200 && (JSON.parse(response.body) as { count: number }).count > 0;
      },
      60_000,
      `findings in ${findings}`,
      { intervalMs: 500 },
    );
  }, 120_000);

  it('switches mode through down and up only: the plain stack then refuses up --tls', async () => {
    const down = await stack(['down']);
    expect(down.code, down.err).toBe(0);
    const plain = await stack(['up']);
    expect(plain.code, plain.out + plain.err).toBe(0);
    const plainEnv = sourceEnvFile(join(stateDir, 'stack.env'));
    expect(plainEnv.ELASTICSEARCH_URL).toMatch(/^http:\/\//);
    expect(Object.keys(plainEnv).filter((name) => /SSL|SASL|_CA_|TLS/.test(name))).toEqual([]);
    expect((await probeKafka({ brokers: plainEnv.KAFKA_BROKERS!.split(',') }, { createTopic: false })).ok).toBe(true);

    const tls = await stack(['up', '--tls']);
    expect(tls.code).not.toBe(0);
    expect(tls.err).toContain('STACK_MODE_MISMATCH');
    expect(tls.err).toContain("'calwatch stack down', then 'calwatch stack up --tls'");
    const status = JSON.parse((await stack(['status', '--json'])).out) as { components: Array<{ tls: boolean; health: { ok: boolean } }> };
    expect(status.components.map((c) => [c.tls, c.health.ok])).toEqual([
      [false, true],
      [false, true],
    ]);
  }, 200_000);
});
