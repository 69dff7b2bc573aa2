import { describe, expect, it } from 'vitest';
import { type Admin, type BatchContext, type ConsumeOptions, type Consumer, type IncomingRecord, type KafkaClient, type OutgoingRecord } from '@calwatch/kafka';
import { SHARED_ERRORS, buildTopicNames } from '@calwatch/model';
import { createReadiness, createSilentLogger } from '@calwatch/runtime';
import { loadProcessorConfig } from './config';
import { parseCoreConfig } from './core/index';
import { createProcessorService } from './processor-service';

const topics = buildTopicNames('svc.');

/** The narrow Kafka port, in memory: one partition per topic; sends fail while `failSends` is set. */
function createFakeKafka() {
  let consume: ConsumeOptions | undefined;
  const sent: OutgoingRecord[] = [];
  const fake = { failSends: false };
  const admin: Admin = {
    ensureTopics: async () => undefined,
    deleteTopics: async () => undefined,
    listTopics: async () => Object.values(topics),
    describeCluster: async () => ({ brokers: 1, controllerId: 1 }),
    partitionCount: async () => 1,
    endOffsets: async (topic) => [{ topic, partition: 0, offset: '0' }],
    startOffsets: async (topic) => [{ topic, partition: 0, offset: '0' }],
    committedOffsets: async (_group, topic) => [{ topic, partition: 0, offset: '-1' }],
    close: async () => undefined,
  };
  const consumer: Consumer = {
    async start(options) {
      consume = options;
    },
    pause: () => undefined,
    resume: () => undefined,
    commit: async () => undefined,
    seek: () => undefined,
    stop: async () => undefined,
  };
  const kafka: KafkaClient = {
    createAdmin: async () => admin,
    createConsumer: () => consumer,
    createPartitionReader: () => ({ readToEnd: async () => ({ records: 0 }) }),
    async createProducer() {
      return {
        async send(records) {
          if (fake.failSends) {
            throw SHARED_ERRORS.create('SHARED_KAFKA_RECORD_TOO_LARGE', 'record too large; not sent');
          }
          sent.push(...records);
        },
        close: async () => undefined,
      };
    },
  };
  return {
    kafka,
    sent,
    fake,
    consume: () => {
      if (consume === undefined) throw new Error('consumer not started');
      return consume;
    },
  };
}

function garbage(offset: number): IncomingRecord {
  return { topic: topics.events, partition: 0, offset: String(offset), key: 'k', value: Buffer.from('not json'), headers: {}, timestamp: '0' };
}

function contextOf(highWatermark: string): BatchContext {
  return { topic: topics.events, partition: 0, highWatermark, heartbeat: async () => undefined, isStale: () => false };
}

async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, text: await response.text() };
}

function createService(kafka: KafkaClient, onFatal: (error: Error) => void) {
  const readiness = createReadiness();
  const config = loadProcessorConfig({ CALWATCH_TOPIC_PREFIX: 'svc.', PROCESSOR_METRICS_PORT: '0', PROCESSOR_PUNCTUATE_INTERVAL_MS: '60000' });
  const service = createProcessorService({ config, detection: parseCoreConfig({}), logger: createSilentLogger(), kafka, readiness, onFatal });
  return { service, readiness };
}

describe('processor service: fail loud', () => {
  it('a failed produce makes it not ready, and a consumer stopped on the error ends it through onFatal', async () => {
    const port = createFakeKafka();
    const fatal: Error[] = [];
    const { service } = createService(port.kafka, (error) => fatal.push(error));
    await service.start();
    try {
      const probe = service.probePort!;
      expect(service.isReady()).toBe(true);
      expect((await get(probe, '/readyz')).status).toBe(200);
      expect((await get(probe, '/healthz')).status).toBe(200);

      await port.consume().onAssignment?.([{ topic: topics.events, partition: 0 }]);
      port.fake.failSends = true;
      await expect(port.consume().eachBatch([garbage(0)], contextOf('1'))).rejects.toMatchObject({ code: 'SHARED_KAFKA_RECORD_TOO_LARGE' });
      expect(service.isReady()).toBe(false);
      const notReady = await get(probe, '/readyz');
      expect(notReady.status).toBe(503);
      expect(notReady.text).toContain(`task ${topics.events}:0`);

      // The re-delivered batch succeeds: ready again.
      port.fake.failSends = false;
      await port.consume().eachBatch([garbage(0)], contextOf('1'));
      expect(service.isReady()).toBe(true);

      // kafkajs gave up on the consumer: the service must not run on silently.
      const crash = new Error('produce: record too large');
      port.consume().onCrash?.(crash);
      port.consume().onCrash?.(crash);
      expect(fatal).toEqual([crash]);
      expect(service.state).toBe('failed');
      expect(service.isReady()).toBe(false);
      const failed = await get(probe, '/readyz');
      expect(failed.status).toBe(503);
      expect(failed.text).toContain('consumer stopped');
      expect((await get(probe, '/metrics')).text).toMatch(/calwatch_processor_ready 0/);
    } finally {
      await service.stop();
    }
    expect(service.state).toBe('stopped');
  });

  it('is not ready while the Kafka client rides out an outage', async () => {
    const port = createFakeKafka();
    const { service, readiness } = createService(port.kafka, () => undefined);
    await service.start();
    try {
      readiness.set('kafka producer 1', 'send failing: broker down');
      expect(service.isReady()).toBe(false);
      expect((await get(service.probePort!, '/readyz')).text).toContain('broker down');
      readiness.set('kafka producer 1', undefined);
      expect(service.isReady()).toBe(true);
    } finally {
      await service.stop();
    }
  });

  it('serves per-partition lag and seconds since progress', async () => {
    const port = createFakeKafka();
    const { service } = createService(port.kafka, () => undefined);
    await service.start();
    try {
      await port.consume().onAssignment?.([{ topic: topics.events, partition: 0 }]);
      await port.consume().eachBatch([garbage(0), garbage(1)], contextOf('10'));
      const metrics = (await get(service.probePort!, '/metrics')).text;
      expect(metrics).toContain(`calwatch_processor_partition_lag{topic="${topics.events}",partition="0"} 8`);
      expect(metrics).toMatch(new RegExp(`calwatch_processor_seconds_since_progress\\{topic="${topics.events.replace(/\./g, '\\.')}",partition="0"\\} [0-9.]+`));
      expect(metrics).toMatch(/calwatch_processor_ready 1/);
      expect(service.partitions()).toEqual([{ topic: topics.events, partition: 0, lag: 8, secondsSinceProgress: expect.any(Number) }]);
    } finally {
      await service.stop();
    }
  });
});
