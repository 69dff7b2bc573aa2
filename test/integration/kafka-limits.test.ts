import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, type Admin, type KafkaClient } from '@calwatch/kafka';
import { isCalwatchError, type CalwatchError } from '@calwatch/model';
import { KAFKA_CLIENT_LIBRARIES, createLogger } from '@calwatch/runtime';
import { getTestServices, uniqueName } from '../harness/services';
import { createTextSink } from '../harness/text-sink';
import { readTopicToEnd } from '../harness/topic-reader';

const LIMIT = 10_000;

describe.each(KAFKA_CLIENT_LIBRARIES)('Kafka adapter: record size limit and a failed send, KAFKA_CLIENT=%s', (client) => {
  const logs = createTextSink();
  let kafka: KafkaClient;
  let admin: Admin;
  const topic = uniqueName('limits');
  // A topic that takes far less than the client's limit: the broker refuses what the client lets through.
  const tiny = uniqueName('tiny');

  beforeAll(async () => {
    const logger = createLogger({ service: 'test', version: '0', level: 'info', destination: logs });
    kafka = createKafkaClient({ connection: { ...getTestServices().kafka, client, maxRecordBytes: LIMIT }, logger });
    admin = await kafka.createAdmin();
    await admin.ensureTopics([
      { topic, numPartitions: 2, compacted: false },
      { topic: tiny, numPartitions: 1, compacted: false, maxMessageBytes: 2_000 },
    ]);
  });

  afterAll(async () => {
    await admin.deleteTopics([topic, tiny]).catch(() => undefined);
    await admin.close();
  });

  it('refuses an oversized record before sending: nothing of the send is written, the error names topic, key and size', async () => {
    const producer = await kafka.createProducer();
    try {
      const key = `server-01|${'x'.repeat(300)}`;
      const error = await producer
        .send([
          { topic, key: 'small', value: 'fits' },
          { topic, key, value: randomBytes(LIMIT) },
        ])
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isCalwatchError(error, 'SHARED_KAFKA_RECORD_TOO_LARGE')).toBe(true);
      const coded = error as CalwatchError;
      expect(coded.retriable).toBe(false);
      expect(coded.context).toMatchObject({ topic, sizeBytes: key.length + LIMIT, limitBytes: LIMIT });
      expect(String(coded.context.key)).toMatch(/^server-01\|x+…$/);
      expect(coded.message).toContain(topic);
      expect(coded.message).toContain(`${key.length + LIMIT} bytes`);
      expect((await admin.endOffsets(topic)).map((o) => o.offset)).toEqual(['0', '0']);

      // The producer is still good for records within the limit.
      await producer.send([{ topic, key: 'small', value: 'fits' }]);
      expect((await readTopicToEnd(kafka, topic, 2)).map((r) => r.value?.toString())).toEqual(['fits']);
    } finally {
      await producer.close();
    }
  });

  it('recreates the producer after a send the broker refused, so later sends are not wedged', async () => {
    const producer = await kafka.createProducer();
    try {
      // Incompressible, so gzip cannot bring it under the topic's 2000 bytes.
      const refused = await producer.send([{ topic: tiny, key: 'k', value: randomBytes(8_000) }]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isCalwatchError(refused, 'SHARED_KAFKA_REQUEST_FAILED')).toBe(true);
      expect(logs.text()).not.toContain('producer recreated after a failed send');

      const values = Array.from({ length: 30 }, (_, i) => `after-${i}`);
      for (const value of values) await producer.send([{ topic: tiny, key: 'k', value }]);
      expect(logs.text()).toContain('producer recreated after a failed send');
      const read = await readTopicToEnd(kafka, tiny, 1);
      expect(read.map((r) => r.value?.toString())).toEqual(values);
    } finally {
      await producer.close();
    }
  });
});
