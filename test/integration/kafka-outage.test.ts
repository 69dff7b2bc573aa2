import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, type Consumer, type Producer } from '@calwatch/kafka';
import { KAFKA_CLIENT_LIBRARIES, createLogger, createReadiness } from '@calwatch/runtime';
import { uniqueName } from '../harness/services';
import { createTextSink } from '../harness/text-sink';
import { createThrowawayBroker, type ThrowawayBroker } from './kafka-throwaway-broker';
import { waitFor } from '../harness/wait-for';


/** How long the broker stays stalled: long enough for every request timeout and client retry to run out. */
const STALL_MS = 25_000;
/** The stall in the middle of a read: past the reader's 3 s request timeout and its retries. */
const MID_READ_STALL_MS = 12_000;

describe('a stalled broker (SIGSTOP) is ridden out', () => {
  let broker: ThrowawayBroker;

  beforeAll(async () => {
    broker = await createThrowawayBroker();
    await broker.start();
  }, 180_000);

  afterAll(async () => {
    await broker?.destroy();
  }, 60_000);

  describe.each(KAFKA_CLIENT_LIBRARIES)('KAFKA_CLIENT=%s', (client) => {
    it('a producer and a consumer of the adapter go on after the stall: nothing lost, not ready while it lasted', async () => {
      const logs = createTextSink();
      const logger = createLogger({ service: 'outage-test', version: '0', level: 'info', destination: logs });
      const readiness = createReadiness();
      const kafka = createKafkaClient({
        connection: { brokers: broker.brokers, clientId: 'outage-test', ssl: false, outageBudgetMs: 120_000, client },
        logger,
        readiness,
        // Short timeouts so the stall shows as failures (and retries) rather than one long wait.
        requestTimeoutMs: 4_000,
        retries: 2,
        outageBackoff: { minDelayMs: 200, maxDelayMs: 2_000 },
      });
      const topic = uniqueName('outage');
      const admin = await kafka.createAdmin();
      await admin.ensureTopics([{ topic, numPartitions: 3, compacted: false }]);
      await admin.close();

      const received = new Set<string>();
      const crashes: Error[] = [];
      const consumer: Consumer = kafka.createConsumer({ groupId: uniqueName('outage-group'), sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, maxWaitTimeMs: 200 });
      await consumer.start({
        topics: [topic],
        fromBeginning: true,
        eachBatch: async (records) => {
          for (const r of records) received.add(r.value!.toString());
        },
        onCrash: (error) => crashes.push(error),
      });
      const producer: Producer = await kafka.createProducer();
      const total = 120;
      let sawNotReady = false;
      const watch = setInterval(() => {
        if (!readiness.isReady()) sawNotReady = true;
      }, 50);
      try {
        const sends = (async () => {
          for (let i = 0; i < total; i++) await producer.send([{ topic, key: `device-${i % 7}`, value: String(i) }]);
        })();
        await waitFor(() => received.size >= 30, 60_000, 'the first records before the stall');
        await broker.pause();
        const pausedAt = Date.now();
        await waitFor(() => sawNotReady && Date.now() - pausedAt >= STALL_MS, 90_000, 'the stall to show as not ready');
        broker.resume();

        await sends;
        await waitFor(() => received.size === total, 120_000, `all ${total} records`).catch((error: unknown) => {
          throw new Error(`${String(error)}; have ${received.size}; log:\n${logs.text().split('\n').slice(-60).join('\n')}`);
        });
        expect([...received].map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
        expect(crashes, logs.text()).toEqual([]);
        expect(sawNotReady).toBe(true);
        await waitFor(() => readiness.isReady(), 60_000, `readiness back (${JSON.stringify(readiness.reasons())})`);
      } finally {
        clearInterval(watch);
        broker.resume();
        await consumer.stop();
        await producer.close();
      }
    }, 300_000);

    it('a stall longer than the outage budget fails the send with SHARED_KAFKA_OUTAGE_EXCEEDED', async () => {
      const readiness = createReadiness();
      const kafka = createKafkaClient({
        connection: { brokers: broker.brokers, clientId: 'outage-budget-test', ssl: false, outageBudgetMs: 6_000, client },
        logger: createLogger({ service: 'outage-test', version: '0', level: 'silent' }),
        readiness,
        requestTimeoutMs: 2_000,
        // The idempotent producer needs at least one client retry.
        retries: 1,
        outageBackoff: { minDelayMs: 100, maxDelayMs: 1_000 },
      });
      const topic = uniqueName('outage-budget');
      const admin = await kafka.createAdmin();
      await admin.ensureTopics([{ topic, numPartitions: 1, compacted: false }]);
      await admin.close();
      const producer = await kafka.createProducer();
      try {
        await producer.send([{ topic, key: 'k', value: 'before' }]);
        await broker.pause();
        const started = Date.now();
        const error = await producer.send([{ topic, key: 'k', value: 'during' }]).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toMatchObject({ code: 'SHARED_KAFKA_OUTAGE_EXCEEDED', retriable: false });
        expect(Date.now() - started).toBeGreaterThanOrEqual(6_000);
        expect(readiness.isReady()).toBe(false);
      } finally {
        broker.resume();
        await producer.close();
      }
    }, 120_000);

    // The kafkajs reader (a throw-away group) fails at its first broker or coordinator error: it
    // has no outage budget, and the group-less reader of step 1 is where reads got one.
    it.runIf(client === 'platformatic')('a partition reader rides out a stall in the middle of a read: every record once', async () => {
      const kafka = createKafkaClient({
        connection: { brokers: broker.brokers, clientId: 'outage-reader-test', ssl: false, outageBudgetMs: 120_000, client },
        logger: createLogger({ service: 'outage-test', version: '0', level: 'silent' }),
        requestTimeoutMs: 3_000,
        retries: 2,
        outageBackoff: { minDelayMs: 200, maxDelayMs: 2_000 },
      });
      const topic = uniqueName('outage-reader');
      const admin = await kafka.createAdmin();
      await admin.ensureTopics([{ topic, numPartitions: 2, compacted: false }]);
      await admin.close();
      const producer = await kafka.createProducer({ compress: false });
      // Incompressible values, several fetches' worth per partition.
      const values = Array.from({ length: 3_000 }, (_, i) => `${i}:${randomBytes(768).toString('hex')}`);
      try {
        for (let i = 0; i < values.length; i += 300) await producer.send(values.slice(i, i + 300).map((value, j) => ({ topic, key: `k-${(i + j) % 5}`, value })));
      } finally {
        await producer.close();
      }
      const seen: string[] = [];
      let stalled = false;
      let resumeTimer: NodeJS.Timeout | undefined;
      try {
        const { records } = await kafka.createPartitionReader().readToEnd(topic, [0, 1], (batch) => {
          for (const r of batch) seen.push(r.value!.toString());
          if (!stalled) {
            stalled = true;
            // A stall in the middle of the read: when it takes hold does not matter here.
            void broker.pause();
            resumeTimer = setTimeout(() => broker.resume(), MID_READ_STALL_MS);
          }
        });
        expect(stalled).toBe(true);
        expect(records).toBe(values.length);
        expect([...seen].sort()).toEqual([...values].sort());
      } finally {
        clearTimeout(resumeTimer);
        broker.resume();
      }
    }, 120_000);
  });
});
