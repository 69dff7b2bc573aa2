/**
 * What the port promises, checked against the shared broker with each KAFKA_CLIENT: many
 * concurrent sends on one producer all land (the pattern of @platformatic/kafka#326),
 * keys land on the partitions kafkajs puts them on, and the partition reader reads to the
 * end through transaction markers and aborted writes, and past a log start that moves
 * under it.
 */
import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import { Producer as LibraryProducer } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient, type Admin, type IncomingRecord, type KafkaClient, type OutgoingRecord } from '@calwatch/kafka';
import { KAFKA_CLIENT_LIBRARIES, createSilentLogger, type KafkaClientLibrary } from '@calwatch/runtime';
import { getTestServices, uniqueName } from '../harness/services';
import { readTopicToEnd } from '../harness/topic-reader';

const { Kafka, logLevel } = kafkajs;

function clientFor(client: KafkaClientLibrary): KafkaClient {
  return createKafkaClient({ connection: { ...getTestServices().kafka, client }, logger: createSilentLogger() });
}

function valuesOf(records: readonly IncomingRecord[]): string[] {
  return records.map((r) => r.value?.toString() ?? '<tombstone>');
}

describe.each(KAFKA_CLIENT_LIBRARIES)('Kafka clients on the shared broker, KAFKA_CLIENT=%s', (client) => {
  let kafka: KafkaClient;
  let admin: Admin;
  const topics: string[] = [];

  async function topic(prefix: string, numPartitions: number, compacted = false): Promise<string> {
    const name = uniqueName(prefix);
    topics.push(name);
    await admin.ensureTopics([{ topic: name, numPartitions, compacted }]);
    return name;
  }

  beforeAll(async () => {
    kafka = clientFor(client);
    admin = await kafka.createAdmin();
  });

  afterAll(async () => {
    await admin.deleteTopics(topics).catch(() => undefined);
    await admin.close();
  });

  it('lands every record of many concurrent sends on one producer, once, a send\'s records of a key in order', async () => {
    const name = await topic('concurrent', 3);
    const producer = await kafka.createProducer();
    const sends: OutgoingRecord[][] = [];
    // Single-record sends (the collector's pattern) and multi-record sends, all at once.
    for (let i = 0; i < 300; i++) sends.push([{ topic: name, key: `server-${i % 11}`, value: `single-${i}` }]);
    for (let i = 0; i < 60; i++) {
      sends.push(Array.from({ length: 25 }, (_, j) => ({ topic: name, key: `server-${(i + j) % 7}`, value: `batch-${i}-${j}`, headers: { send: String(i), seq: String(j) } })));
    }
    try {
      await Promise.all(sends.map((records) => producer.send(records)));
    } finally {
      await producer.close();
    }
    const expected = sends.flat().map((r) => String(r.value));
    const read = await readTopicToEnd(kafka, name, 3);
    expect(valuesOf(read).sort()).toEqual([...expected].sort());
    const ends = await admin.endOffsets(name);
    expect(ends.reduce((sum, o) => sum + Number(o.offset), 0)).toBe(expected.length);
    // Within one send, a key's records keep the order they were given in.
    const seqBySendAndKey = new Map<string, number[]>();
    for (const record of read) {
      if (record.headers.send === undefined) continue;
      const id = `${record.headers.send}|${record.key}`;
      seqBySendAndKey.set(id, [...(seqBySendAndKey.get(id) ?? []), Number(record.headers.seq)]);
    }
    for (const [id, seqs] of seqBySendAndKey) expect(seqs, id).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('sends 3,000 small records uncompressed in one call: no batch over the broker\'s max.message.bytes', async () => {
    const name = await topic('uncompressed', 1);
    const plain = createKafkaClient({ connection: { ...getTestServices().kafka, client, compression: 'none' }, logger: createSilentLogger() });
    const producer = await plain.createProducer();
    // 1.8 MB of values; at the record limit per run, framing would push a batch past 1 MiB.
    const records = Array.from({ length: 3_000 }, (_, i) => ({ topic: name, key: `k${i % 7}`, value: `${String(i).padStart(6, '0')}${'x'.repeat(594)}` }));
    try {
      await producer.send(records);
    } finally {
      await producer.close();
    }
    const ends = await admin.endOffsets(name);
    expect(Number(ends[0]!.offset)).toBe(records.length);
  });

  it('puts each key on the partition kafkajs puts it on', async () => {
    const ours = await topic('partitioning', 6);
    const reference = await topic('partitioning-kafkajs', 6);
    const keys = Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? `LS${String(i).padStart(3, '0')}` : JSON.stringify(['device', `LS${i % 13}`, randomBytes(6).toString('hex')])));
    const producer = await kafka.createProducer();
    const kafkajsProducer = await clientFor('kafkajs').createProducer();
    try {
      await producer.send(keys.map((key) => ({ topic: ours, key, value: key })));
      await kafkajsProducer.send(keys.map((key) => ({ topic: reference, key, value: key })));
    } finally {
      await producer.close();
      await kafkajsProducer.close();
    }
    const partitionOf = (records: readonly IncomingRecord[]) => new Map(records.map((r) => [r.key, r.partition]));
    const got = partitionOf(await readTopicToEnd(kafka, ours, 6));
    const want = partitionOf(await readTopicToEnd(clientFor('kafkajs'), reference, 6));
    expect(got.size).toBe(keys.length);
    for (const key of keys) expect(got.get(key), key).toBe(want.get(key));
  });

  it('reads to the end through transaction markers, without the records of an aborted transaction', async () => {
    const name = await topic('transactions', 1);
    const raw = new Kafka({ clientId: 'calwatch-test', brokers: getTestServices().kafka.brokers, logLevel: logLevel.NOTHING });
    const transactional = raw.producer({ transactionalId: uniqueName('tx'), idempotent: true, maxInFlightRequests: 1 });
    await transactional.connect();
    try {
      const committed = await transactional.transaction();
      await committed.send({ topic: name, messages: [{ key: 'k', value: 'committed-1' }, { key: 'k', value: 'committed-2' }] });
      await committed.commit();
      const aborted = await transactional.transaction();
      await aborted.send({ topic: name, messages: [{ key: 'k', value: 'aborted' }] });
      await aborted.abort();
    } finally {
      await transactional.disconnect();
    }
    const producer = await kafka.createProducer();
    await producer.send([{ topic: name, key: 'k', value: 'after' }]);
    await producer.close();
    // Six offsets: two records, a commit marker, one aborted record, an abort marker, one record.
    expect((await admin.endOffsets(name)).map((o) => o.offset)).toEqual(['6']);
    const read = await readTopicToEnd(kafka, name, 1);
    expect(valuesOf(read)).toEqual(['committed-1', 'committed-2', 'after']);
    expect(read.map((r) => r.offset)).toEqual(['0', '1', '5']);
  });

  it('hands on each record with the offset, time stamp and headers the kafkajs reader gives', async () => {
    const name = await topic('record-fields', 2);
    const producer = await kafka.createProducer();
    try {
      for (let send = 0; send < 3; send++) {
        await producer.send(
          Array.from({ length: 40 }, (_, i) => ({
            topic: name,
            key: `k${i % 5}`,
            value: `${send}-${i}`,
            ...(i % 3 === 0 ? { headers: { send: String(send), seq: String(i) } } : {}),
          })),
        );
      }
    } finally {
      await producer.close();
    }
    const byOffset = (records: readonly IncomingRecord[]) =>
      [...records].sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset)).map((r) => ({ ...r, value: r.value?.toString() }));
    const read = byOffset(await readTopicToEnd(kafka, name, 2));
    expect(read).toHaveLength(120);
    expect(read.filter((r) => Object.keys(r.headers).length === 2)).toHaveLength(42);
    expect(read).toEqual(byOffset(await readTopicToEnd(clientFor('kafkajs'), name, 2)));
    for (const record of read) expect(Number(record.timestamp)).toBeGreaterThan(Date.UTC(2020, 0, 1));
  });

  it('goes on from the new log start when retention moves it past the reader mid-read', async () => {
    const name = await topic('log-start', 1);
    const producer = await kafka.createProducer({ compress: false });
    // Incompressible 2 KiB values, several fetches' worth (a fetch takes about 1 MiB of a partition).
    const values = Array.from({ length: 2_000 }, (_, i) => `${i}:${randomBytes(1_024).toString('hex')}`);
    try {
      for (let i = 0; i < values.length; i += 200) await producer.send(values.slice(i, i + 200).map((value) => ({ topic: name, key: 'k', value })));
    } finally {
      await producer.close();
    }
    const raw = new Kafka({ clientId: 'calwatch-test', brokers: getTestServices().kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await raw.connect();
    const cut = 1_500;
    const offsets: number[] = [];
    try {
      await kafka.createPartitionReader().readToEnd(name, [0], async (records) => {
        const first = offsets.length === 0;
        for (const r of records) offsets.push(Number(r.offset));
        // After the first batch, everything before `cut` is deleted, as retention would.
        if (first) await raw.fetchTopicMetadata({ topics: [name] });
        if (first) await raw.deleteTopicRecords({ topic: name, partitions: [{ partition: 0, offset: String(cut) }] });
      });
    } finally {
      await raw.disconnect();
    }
    const firstRead = offsets.findIndex((offset, i) => i > 0 && offset !== offsets[i - 1]! + 1);
    expect(offsets[0]).toBe(0);
    expect(offsets.at(-1)).toBe(values.length - 1);
    // No offset twice, in order, and every offset from the cut to the end.
    expect(offsets).toEqual([...new Set(offsets)].sort((a, b) => a - b));
    const tail = offsets.filter((o) => o >= cut);
    expect(tail).toEqual(Array.from({ length: values.length - cut }, (_, i) => cut + i));
    // The reader did skip: one gap, from what it read before the cut to the cut.
    expect(firstRead).toBeGreaterThan(0);
    expect(offsets[firstRead]).toBe(cut);
  });
});

describe('@platformatic/kafka against the stack\'s broker', () => {
  it('stops reading with the caller\'s error when it throws, while the next fetch is already out', async () => {
    // The platformatic reader fetches the next round while the caller takes this one.
    const kafka = clientFor('platformatic');
    const admin = await kafka.createAdmin();
    const name = uniqueName('caller-throws');
    try {
      await admin.ensureTopics([{ topic: name, numPartitions: 1, compacted: false }]);
      const producer = await kafka.createProducer({ compress: false });
      try {
        // Several fetches' worth (a fetch takes about 1 MiB of a partition).
        const values = Array.from({ length: 1_500 }, (_, i) => `${i}:${randomBytes(1_024).toString('hex')}`);
        for (let i = 0; i < values.length; i += 250) await producer.send(values.slice(i, i + 250).map((value) => ({ topic: name, key: 'k', value })));
      } finally {
        await producer.close();
      }
      let calls = 0;
      const failure = new Error('the caller cannot take these records');
      await expect(
        kafka.createPartitionReader().readToEnd(name, [0], async () => {
          calls++;
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(calls).toBe(1);
    } finally {
      await admin.deleteTopics([name]).catch(() => undefined);
      await admin.close();
    }
  });

  it('gets a producer id for an idempotent producer', async () => {
    const producer = new LibraryProducer({ clientId: 'calwatch-test', bootstrapBrokers: getTestServices().kafka.brokers, idempotent: true });
    try {
      const info = await producer.initIdempotentProducer({});
      expect(info.producerId >= 0n).toBe(true);
      expect(info.producerEpoch).toBeGreaterThanOrEqual(0);
    } finally {
      await producer.close();
    }
  });
});
