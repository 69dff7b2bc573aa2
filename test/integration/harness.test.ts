/**
 * The services the harness provides are real and behave as calwatch needs: a Kafka
 * broker without automatic topic creation that takes compacted topics, and an
 * Elasticsearch node that refuses requests without the provided credentials.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTestServices, uniqueName } from '../harness/services';

const services = getTestServices();

function authHeaders(): Record<string, string> {
  const auth = services.elasticsearch.auth;
  if (auth === undefined) return {};
  if ('apiKey' in auth) return { authorization: `ApiKey ${auth.apiKey}` };
  return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
}

async function es(method: string, path: string, body?: unknown, headers = authHeaders()): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${services.elasticsearch.url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json().catch(() => undefined) };
}

describe('Kafka from the harness', () => {
  const kafka = new Kafka({ clientId: services.kafka.clientId, brokers: services.kafka.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const topic = uniqueName('harness');

  beforeAll(async () => {
    await admin.connect();
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('does not create topics on first use', async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: true, retry: { retries: 1 } });
    await producer.connect();
    try {
      await expect(producer.send({ topic: uniqueName('never-created'), messages: [{ value: 'x' }], timeout: 2_000 })).rejects.toThrow();
    } finally {
      await producer.disconnect();
    }
  });

  it('creates a compacted topic and round-trips a keyed record', async () => {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: 2, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'hwid-1', value: 'hello' }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('harness-group') });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no record within 30 s')), 30_000);
      void consumer
        .run({
          eachMessage: async ({ message }) => {
            clearTimeout(timer);
            resolve(`${message.key?.toString()}=${message.value?.toString()}`);
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(received).toBe('hwid-1=hello');
  });
});

describe('Elasticsearch from the harness', () => {
  const index = uniqueName('harness');

  afterAll(async () => {
    await es('DELETE', `/${index}`);
  });

  it('refuses requests without credentials when the harness provides some', async () => {
    if (services.elasticsearch.auth === undefined) {
      expect(services.source).toBe('environment');
      return;
    }
    const anonymous = await es('GET', '/_cluster/health', undefined, {});
    expect(anonymous.status).toBe(401);
  });

  it('indexes and finds a document with the provided credentials', async () => {
    const created = await es('PUT', `/${index}`, { mappings: { properties: { hwid: { type: 'keyword' } } } });
    expect(created.status).toBe(200);
    const indexed = await es('PUT', `/${index}/_doc/1?refresh=true`, { hwid: 'abc' });
    expect(indexed.status).toBe(201);
    const found = await es('POST', `/${index}/_search`, { query: { term: { hwid: 'abc' } } });
    expect(found.status).toBe(200);
    expect((found.json as { hits: { total: { value: number } } }).hits.total.value).toBe(1);
  });
});
