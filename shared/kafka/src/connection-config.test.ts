import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig, type Env } from '@calwatch/runtime';
import {
  elasticsearchEnvShape,
  kafkaEnvShape,
  toElasticsearchConnection,
  toKafkaConnection,
} from '@calwatch/runtime';
import { isCalwatchError } from '@calwatch/model';
import { buildKafkaTlsOptions, createKafkajsClient } from './kafkajs-client';
import { buildPlatformaticOptions } from './platformatic-options';
import { createSilentLogger } from '@calwatch/runtime';

const KafkaSchema = z.object(kafkaEnvShape);
const ElasticsearchSchema = z.object(elasticsearchEnvShape);

function kafkaFrom(env: Env) {
  return toKafkaConnection(loadConfig(KafkaSchema, env));
}

function configErrorOf(build: () => unknown): { message: string } {
  try {
    build();
  } catch (error) {
    expect(isCalwatchError(error, 'SHARED_CONFIG_INVALID')).toBe(true);
    return error as Error;
  }
  throw new Error('expected SHARED_CONFIG_INVALID');
}

describe('Kafka connection variables', () => {
  it('refuses SASL plain without TLS: the password would cross the network in clear text', () => {
    const error = configErrorOf(() => kafkaFrom({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'calwatch', KAFKA_SASL_PASSWORD: 'secret' }));
    expect(error.message).toContain('KAFKA_SASL_MECHANISM');
    expect(error.message).not.toContain('secret');
  });

  it('accepts SASL plain over TLS, and without it only when explicitly allowed', () => {
    const credentials = { KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'calwatch', KAFKA_SASL_PASSWORD: 'secret' };
    expect(kafkaFrom({ ...credentials, KAFKA_SSL: 'true' }).sasl).toEqual({ mechanism: 'plain', username: 'calwatch', password: 'secret' });
    expect(kafkaFrom({ ...credentials, KAFKA_SASL_ALLOW_PLAINTEXT: 'true' }).ssl).toBe(false);
  });

  it('accepts SCRAM without TLS (the password never crosses the network)', () => {
    const connection = kafkaFrom({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'calwatch', KAFKA_SASL_PASSWORD: 'secret' });
    expect(connection.sasl?.mechanism).toBe('scram-sha-512');
  });

  it.each([
    [{ KAFKA_SASL_USERNAME: 'calwatch' }, ['KAFKA_SASL_PASSWORD']],
    [{ KAFKA_SASL_PASSWORD: 'secret' }, ['KAFKA_SASL_USERNAME']],
    [{}, ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD']],
    [{ KAFKA_SASL_USERNAME: 'calwatch', KAFKA_SASL_PASSWORD: '' }, ['KAFKA_SASL_PASSWORD']],
  ])('refuses a SASL mechanism with missing credentials %o instead of sending empty ones', (credentials, missing) => {
    const error = configErrorOf(() => kafkaFrom({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'scram-sha-256', ...credentials }));
    for (const name of missing) expect(error.message).toContain(`${name}: required`);
  });

  it('refuses TLS files while TLS is off, and half a client certificate', () => {
    const off = configErrorOf(() => kafkaFrom({ KAFKA_SSL_CA_FILE: '/etc/ca.pem' }));
    expect(off.message).toContain('KAFKA_SSL_CA_FILE');
    const half = configErrorOf(() => kafkaFrom({ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: '/etc/client.pem' }));
    expect(half.message).toContain('KAFKA_SSL_KEY_FILE');
  });

  it('carries the CA and client certificate files to the client, which reads them once', () => {
    const connection = kafkaFrom({
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: '/etc/calwatch/ca.pem',
      KAFKA_SSL_CERT_FILE: '/etc/calwatch/client.pem',
      KAFKA_SSL_KEY_FILE: '/etc/calwatch/client.key',
      KAFKA_SSL_KEY_PASSPHRASE: 'pass',
    });
    const files: Record<string, string> = { '/etc/calwatch/ca.pem': 'CA', '/etc/calwatch/client.pem': 'CERT', '/etc/calwatch/client.key': 'KEY' };
    const tls = buildKafkaTlsOptions(connection.ssl, (path) => Buffer.from(files[path] ?? ''));
    expect(tls).toEqual({ rejectUnauthorized: true, ca: [Buffer.from('CA')], cert: Buffer.from('CERT'), key: Buffer.from('KEY'), passphrase: 'pass' });
  });

  it('gives @platformatic/kafka the same TLS files and SASL credentials as kafkajs', () => {
    const connection = kafkaFrom({
      KAFKA_CLIENT: 'platformatic',
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: '/etc/calwatch/ca.pem',
      KAFKA_SSL_CERT_FILE: '/etc/calwatch/client.pem',
      KAFKA_SSL_KEY_FILE: '/etc/calwatch/client.key',
      KAFKA_SSL_KEY_PASSPHRASE: 'pass',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'calwatch',
      KAFKA_SASL_PASSWORD: 'secret',
    });
    const files: Record<string, string> = { '/etc/calwatch/ca.pem': 'CA', '/etc/calwatch/client.pem': 'CERT', '/etc/calwatch/client.key': 'KEY' };
    const read = (path: string) => Buffer.from(files[path] ?? '');
    const options = buildPlatformaticOptions(connection, { requestTimeoutMs: 30_000, connectionTimeoutMs: 3_000, retries: 8 }, read);
    expect(options.tls).toEqual(buildKafkaTlsOptions(connection.ssl, read));
    expect(options.sasl).toEqual({ mechanism: 'SCRAM-SHA-512', username: 'calwatch', password: 'secret' });
    expect(buildPlatformaticOptions(kafkaFrom({ KAFKA_SSL: 'true' }), { requestTimeoutMs: 1, connectionTimeoutMs: 1, retries: 0 }).tls).toEqual({});
    expect(buildPlatformaticOptions(kafkaFrom({}), { requestTimeoutMs: 1, connectionTimeoutMs: 1, retries: 0 }).tls).toBeUndefined();
  });

  it('picks the client library and compression: kafkajs and gzip by default; never a codec the kafkajs consumers cannot read', () => {
    const defaults = kafkaFrom({});
    expect([defaults.client, defaults.compression]).toEqual(['kafkajs', 'gzip']);
    expect(kafkaFrom({ KAFKA_CLIENT: 'platformatic', KAFKA_COMPRESSION: 'none' })).toMatchObject({ client: 'platformatic', compression: 'none' });
    expect(configErrorOf(() => kafkaFrom({ KAFKA_CLIENT: 'platformatic', KAFKA_COMPRESSION: 'zstd' })).message).toContain('group consumers');
    expect(kafkaFrom({ KAFKA_COMPRESSION: 'none' }).compression).toBe('none');
    const lz4 = configErrorOf(() => kafkaFrom({ KAFKA_COMPRESSION: 'lz4' }));
    expect(lz4.message).toContain('KAFKA_COMPRESSION');
    configErrorOf(() => kafkaFrom({ KAFKA_CLIENT: 'rdkafka' }));
    // A connection built by hand is checked by the kafkajs client itself.
    configErrorOf(() => createKafkajsClient({ connection: { brokers: ['127.0.0.1:9092'], clientId: 't', ssl: false, compression: 'snappy' }, logger: createSilentLogger() }));
  });

  it('names the variable of an unreadable TLS file', () => {
    const connection = kafkaFrom({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: '/nonexistent/calwatch-ca.pem' });
    const error = configErrorOf(() => buildKafkaTlsOptions(connection.ssl));
    expect(error.message).toContain('KAFKA_SSL_CA_FILE');
  });
});

describe('Elasticsearch connection variables', () => {
  function esFrom(env: Env) {
    return toElasticsearchConnection(loadConfig(ElasticsearchSchema, env));
  }

  it('refuses a user without a password instead of sending an empty one', () => {
    expect(configErrorOf(() => esFrom({ ELASTICSEARCH_USERNAME: 'calwatch_indexer' })).message).toContain('ELASTICSEARCH_PASSWORD');
    expect(configErrorOf(() => esFrom({ ELASTICSEARCH_PASSWORD: 'secret' })).message).toContain('ELASTICSEARCH_USERNAME');
  });

  it('refuses an API key together with a user (which one would be used is not obvious)', () => {
    const error = configErrorOf(() => esFrom({ ELASTICSEARCH_API_KEY: 'a2V5', ELASTICSEARCH_USERNAME: 'u', ELASTICSEARCH_PASSWORD: 'p' }));
    expect(error.message).toContain('ELASTICSEARCH_API_KEY');
  });

  it('normalises a CA fingerprint to the form the client compares and refuses one of the wrong length', () => {
    const hex = 'ab'.repeat(32);
    expect(esFrom({ ELASTICSEARCH_CA_FINGERPRINT: hex }).caFingerprint).toBe(Array(32).fill('AB').join(':'));
    expect(() => loadConfig(ElasticsearchSchema, { ELASTICSEARCH_CA_FINGERPRINT: 'ab'.repeat(20) })).toThrow(/ELASTICSEARCH_CA_FINGERPRINT/);
  });
});
