import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, type Admin, type IncomingRecord, type KafkaClient } from '@calwatch/kafka';
import { KAFKA_CLIENT_LIBRARIES, createSilentLogger } from '@calwatch/runtime';
import { getTestServices, uniqueName } from '../harness/services';
import { waitFor } from '../harness/wait-for';


describe.each(KAFKA_CLIENT_LIBRARIES)('Kafka adapter on a real broker, KAFKA_CLIENT=%s', (client) => {
  let kafka: KafkaClient;
  let admin: Admin;
  const topic = uniqueName('roundtrip');
  const compacted = uniqueName('compacted');

  beforeAll(async () => {
    kafka = createKafkaClient({ connection: { ...getTestServices().kafka, client }, logger: createSilentLogger() });
    admin = await kafka.createAdmin();
    await admin.ensureTopics([
      { topic, numPartitions: 2, compacted: false },
      { topic: compacted, numPartitions: 2, compacted: true },
    ]);
    // Idempotent: a second call with the same specs changes nothing.
    await admin.ensureTopics([{ topic, numPartitions: 2, compacted: false }]);
  });

  afterAll(async () => {
    await admin.deleteTopics([topic, compacted]).catch(() => undefined);
    await admin.close();
  });

  it('round-trips keyed records through a consumer group and commits only handled batches', async () => {
    expect(await admin.partitionCount(topic)).toBe(2);
    const producer = await kafka.createProducer();
    const sent = Array.from({ length: 20 }, (_, i) => ({ topic, key: `hwid-${i % 5}`, value: JSON.stringify({ i }), headers: { 'calwatch-type': 'test' } }));
    await producer.send(sent);

    const groupId = uniqueName('group');
    const received: IncomingRecord[] = [];
    const consumer = kafka.createConsumer({ groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 });
    let failOnce = true;
    await consumer.start({
      topics: [topic],
      fromBeginning: true,
      eachBatch: async (records) => {
        // The first batch fails: it must be delivered again, not committed.
        if (failOnce) {
          failOnce = false;
          throw new Error('transient failure in handler');
        }
        received.push(...records);
      },
    });
    await waitFor(() => received.length >= 20, 30_000, 'the first 20 records');
    await consumer.stop();
    await consumer.stop();

    const values = received.map((r) => (JSON.parse(r.value!.toString()) as { i: number }).i).sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: 20 }, (_, i) => i));
    // Same key, same partition: one device's records stay in order.
    for (const record of received) expect(record.headers['calwatch-type']).toBe('test');
    const partitionsByKey = new Map<string, Set<number>>();
    for (const r of received) partitionsByKey.set(r.key!, (partitionsByKey.get(r.key!) ?? new Set()).add(r.partition));
    for (const partitions of partitionsByKey.values()) expect(partitions.size).toBe(1);

    const committed = await admin.committedOffsets(groupId, topic);
    const ends = await admin.endOffsets(topic);
    expect(committed.map((c) => c.offset)).toEqual(ends.map((e) => e.offset));

    // A new member of the same group resumes after the commits: nothing is delivered again.
    const again: IncomingRecord[] = [];
    const second = kafka.createConsumer({ groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 });
    let assigned = 0;
    await second.start({ topics: [topic], eachBatch: async (records) => void again.push(...records), onAssignment: (a) => void (assigned = a.length) });
    await producer.send([{ topic, key: 'hwid-new', value: 'late' }]);
    await waitFor(() => again.length > 0, 30_000, 'records read again');
    await second.stop();
    await producer.close();
    expect(assigned).toBe(2);
    expect(again.map((r) => r.value?.toString())).toEqual(['late']);
  });

  it('with autoCommit false, commits only what its owner commits, and a seek reads a partition again', async () => {
    const manual = uniqueName('manual');
    await admin.ensureTopics([{ topic: manual, numPartitions: 1, compacted: false }]);
    const producer = await kafka.createProducer();
    await producer.send(Array.from({ length: 10 }, (_, i) => ({ topic: manual, key: 'k', value: String(i) })));
    const groupId = uniqueName('manual-group');
    const received: string[] = [];
    const consumer = kafka.createConsumer({ groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, maxWaitTimeMs: 100 });
    await consumer.start({ topics: [manual], fromBeginning: true, autoCommit: false, eachBatch: async (records) => void received.push(...records.map((r) => r.value!.toString())) });
    await waitFor(() => received.length >= 10, 30_000, 'the 10 records');
    // Handled, and not committed.
    expect((await admin.committedOffsets(groupId, manual)).map((c) => c.offset)).toEqual(['-1']);
    consumer.seek({ topic: manual, partition: 0, offset: '4' });
    await waitFor(() => received.length >= 16, 30_000, 'records 4 to 9 again');
    await consumer.commit([{ topic: manual, partition: 0, offset: '7' }]);
    expect((await admin.committedOffsets(groupId, manual)).map((c) => c.offset)).toEqual(['7']);
    await consumer.stop();
    expect(received).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '4', '5', '6', '7', '8', '9']);

    // The next member of the group starts at the commit.
    const again: string[] = [];
    const second = kafka.createConsumer({ groupId, sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, maxWaitTimeMs: 100 });
    await second.start({ topics: [manual], autoCommit: false, eachBatch: async (records) => void again.push(...records.map((r) => r.value!.toString())) });
    await waitFor(() => again.length >= 3, 30_000, 'records from the commit on');
    await second.stop();
    await producer.close();
    await admin.deleteTopics([manual]).catch(() => undefined);
    expect(again).toEqual(['7', '8', '9']);
  });

  it('reads compacted partitions to their end for state restore', async () => {
    const producer = await kafka.createProducer();
    await producer.send([
      { topic: compacted, key: 'a', value: '1', partition: 0 },
      { topic: compacted, key: 'a', value: '2', partition: 0 },
      { topic: compacted, key: 'b', value: '1', partition: 1 },
      { topic: compacted, key: 'a', value: null, partition: 1 },
    ]);
    await producer.close();
    const reader = kafka.createPartitionReader();
    const seen: Array<[number, string | null, string | null]> = [];
    const result = await reader.readToEnd(compacted, [0], (records) => {
      for (const r of records) seen.push([r.partition, r.key, r.value?.toString() ?? null]);
    });
    expect(result.records).toBe(2);
    expect(seen).toEqual([
      [0, 'a', '1'],
      [0, 'a', '2'],
    ]);
    const both: Array<string | null> = [];
    await reader.readToEnd(compacted, [0, 1], (records) => void both.push(...records.map((r) => r.value?.toString() ?? null)));
    expect(both.sort()).toEqual(['1', '1', '2', null].sort());
  });
});
