import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isCalwatchError } from '@calwatch/model';
import { elasticsearchEnvShape, kafkaEnvShape, loadConfig, toElasticsearchConnection, toKafkaConnection } from '@calwatch/runtime';
import { buildStackEnv, readStackInfoFile, removeStackInfo, writeStackInfo, type StackInfo } from './stack-info';

const info: StackInfo = {
  format: 1,
  stateDir: '/st',
  startedAt: '2026-01-01T00:00:00.000Z',
  kafka: {
    brokers: ['127.0.0.1:9092'],
    version: '4.4.0',
    port: 9092,
    controllerPort: 9093,
    pid: 10,
    javaHome: '/jdk',
    dataDir: '/st/kafka/data',
    serverLog: '/st/kafka/logs/server.log',
    stdoutLog: '/st/logs/kafka.stdout.log',
  },
  elasticsearch: {
    url: 'http://127.0.0.1:9200',
    username: 'calwatch',
    password: "it's $secret",
    passwordFile: '/st/elasticsearch-password',
    version: '8.19.21',
    port: 9200,
    transportPort: 9300,
    pid: 11,
    javaHome: '/jdk',
    runAsUser: null,
    homeDir: '/ca/es',
    dataDir: '/st/elasticsearch/data',
    serverLog: '/st/elasticsearch/logs/calwatch-local.log',
    stdoutLog: '/st/logs/elasticsearch.stdout.log',
  },
};

describe('stack.json and stack.env', () => {
  let dir: string;
  let files: { stackJson: string; stackEnv: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'calwatch-info-'));
    files = { stackJson: join(dir, 'stack.json'), stackEnv: join(dir, 'stack.env') };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips and keeps both files owner-only', async () => {
    await writeStackInfo(files, info);
    expect(await readStackInfoFile(files.stackJson)).toEqual(info);
    expect((await stat(files.stackJson)).mode & 0o777).toBe(0o600);
    expect((await stat(files.stackEnv)).mode & 0o777).toBe(0o600);
    await removeStackInfo(files);
    expect(await readStackInfoFile(files.stackJson)).toBeUndefined();
  });

  it('writes an env file a shell reads back verbatim, quotes and dollars included', async () => {
    await writeFile(files.stackEnv, buildStackEnv(info));
    const out = execFileSync('bash', ['-c', `set -a; . '${files.stackEnv}'; printf '%s|%s|%s' "$KAFKA_BROKERS" "$ELASTICSEARCH_URL" "$ELASTICSEARCH_PASSWORD"`], {
      encoding: 'utf8',
    });
    expect(out).toBe("127.0.0.1:9092|http://127.0.0.1:9200|it's $secret");
  });

  it('gives every service a TLS connection when the stack runs with TLS, as the services parse it', async () => {
    const tlsInfo: StackInfo = {
      ...info,
      elasticsearch: { ...info.elasticsearch, url: 'https://127.0.0.1:9200' },
      tls: {
        caFile: '/st/tls/ca.pem',
        caFingerprint: 'AB:'.repeat(31) + 'AB',
        kafka: { saslMechanism: 'scram-sha-512', username: 'calwatch', password: "sasl 'pw'", clientCertFile: '/st/tls/c.pem', clientKeyFile: '/st/tls/c.key' },
        collector: { certFile: '/st/tls/collector.pem', keyFile: '/st/tls/collector.key' },
      },
    };
    await writeFile(files.stackEnv, buildStackEnv(tlsInfo));
    const sourced = execFileSync('bash', ['-c', `set -a; . '${files.stackEnv}'; env -0`], { encoding: 'utf8', env: {} });
    const env = Object.fromEntries(
      sourced
        .split('\0')
        .filter((entry) => entry.includes('='))
        .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
    );
    expect(toKafkaConnection(loadConfig(z.object(kafkaEnvShape), env))).toMatchObject({
      brokers: ['127.0.0.1:9092'],
      ssl: { caFile: '/st/tls/ca.pem', certFile: '/st/tls/c.pem', keyFile: '/st/tls/c.key' },
      sasl: { mechanism: 'scram-sha-512', username: 'calwatch', password: "sasl 'pw'" },
    });
    expect(toElasticsearchConnection(loadConfig(z.object(elasticsearchEnvShape), env))).toMatchObject({
      url: 'https://127.0.0.1:9200',
      caFile: '/st/tls/ca.pem',
      caFingerprint: tlsInfo.tls!.caFingerprint,
      auth: { username: 'calwatch', password: "it's $secret" },
      tlsInsecure: false,
    });
    expect(env).toMatchObject({ COLLECTOR_TLS_CERT_FILE: '/st/tls/collector.pem', COLLECTOR_TLS_KEY_FILE: '/st/tls/collector.key' });
    // A plain stack's file carries none of it.
    expect(buildStackEnv(info)).not.toMatch(/KAFKA_SSL|KAFKA_SASL|_CA_|COLLECTOR_TLS/);
  });

  it('rejects a file that does not describe a stack', async () => {
    await writeFile(files.stackJson, JSON.stringify({ format: 1 }));
    await expect(readStackInfoFile(files.stackJson)).rejects.toSatisfy((e: unknown) => isCalwatchError(e, 'STACK_STATE_INVALID'));
  });
});
