/**
 * kafkajs (through calwatch's adapter) against @platformatic/kafka on the same broker, in
 * one run: reading a topic to its end (the events topic as the processor reads it, and a
 * changelog-like topic as restore reads it) and producing (idempotent, acks=all, sends of
 * 1,000 records). Each measurement runs three times, the clients alternating (A B A B A B),
 * and reports the best and median rate and the CPU seconds per 100k records of this
 * process, which a loaded machine disturbs less than wall-clock rates.
 *
 *   npm run bench -- kafka-clients
 *   node --import tsx bench/kafka-clients.bench.ts        (writes bench/results/kafka-clients.json)
 *
 * The broker comes from KAFKA_BROKERS or the local stack (`calwatch stack up`). Topics get
 * a unique prefix and are deleted afterwards. docs/kafka-client.md discusses the numbers.
 */
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type CompressionAlgorithmValue,
  Consumer as PlatformaticConsumer,
  type Message as PlatformaticMessage,
  Producer as PlatformaticProducer,
  ProduceAcks,
  compatibilityPartitioner,
} from '@platformatic/kafka';
import { type IncomingRecord, type KafkaClient, type OutgoingRecord, createKafkaClient } from '@calwatch/kafka';
import { type CanonicalEvent, kafkaKeyOf } from '@calwatch/model';
import { createSilentLogger } from '@calwatch/runtime';
import { simulateFleet } from '@calwatch/simulator';
import { deleteTopicsWithPrefix } from '../test/harness/cleanup';
import { benchBrokers, benchKafkaClientSettings } from './brokers';
import { writeBenchResults } from './results-file';

interface KafkaClientsBenchResult {
  name: string;
  metrics: Record<string, number | string>;
  notes?: string;
}

export interface KafkaClientsBenchOptions {
  /** Records per topic read and per produce run. */
  records?: number;
  partitions?: number;
  /** Runs per measurement, alternating the clients. */
  repeats?: number;
}

/** One timed run: wall clock and this process's CPU (user + system). */
interface Sample {
  ms: number;
  cpuMs: number;
  /** Reads: from the first record to the last (group join and metadata excluded). */
  readMs?: number;
}

const SEND_SIZE = 1_000;
const FETCH_PARTITION_MAX_BYTES = 1_048_576;
const CLIENT_ID = 'calwatch-bench-kafka-clients';

async function measure(run: (firstRecord: () => void) => Promise<void>): Promise<Sample> {
  let first: number | undefined;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run(() => {
    first ??= performance.now();
  });
  const ended = performance.now();
  const used = process.cpuUsage(cpu);
  return { ms: ended - started, cpuMs: (used.user + used.system) / 1000, ...(first === undefined ? {} : { readMs: ended - first }) };
}

async function waitUntil(probe: () => boolean, timeoutMs: number, what: string, failure: () => Error | undefined = () => undefined): Promise<void> {
  const started = Date.now();
  while (!probe()) {
    const error = failure();
    if (error !== undefined) throw error;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Real events from the simulator, ~600 B of JSON each, as the collectors publish them. */
function simulatedEvents(count: number): CanonicalEvent[] {
  const events: CanonicalEvent[] = [];
  for (let server = 1; events.length < count; server++) {
    const fleet = simulateFleet({ devices: 5_000, days: 60, seed: 500 + server, licenseServer: `LS${String(server).padStart(2, '0')}` });
    for (const event of fleet.events()) {
      events.push(event);
      if (events.length === count) break;
    }
  }
  return events;
}

/**
 * Changelog-like records: a JSON-array key per state entry and a small JSON value (~150-250 B
 * with the key), the shape of the processor's state entries, one per distinct key.
 */
function changelogRecords(events: readonly CanonicalEvent[], topic: string, partitions: number): OutgoingRecord[] {
  return events.map((event, index) => {
    const license = 'license' in event ? event.license : undefined;
    const value = {
      v: 1,
      computer: license?.computer.norm ?? null,
      licenseId: license?.licenseId ?? null,
      status: license?.status ?? null,
      firstSeen: Date.parse(event.eventTime),
      lastSeen: Date.parse(event.observedTime),
      eventId: event.eventId,
    };
    return { topic, partition: index % partitions, key: JSON.stringify(['device', event.licenseServer, license?.hwid.norm ?? event.eventId, index]), value: JSON.stringify(value) };
  });
}

function recordBytes(records: readonly OutgoingRecord[]): number {
  let bytes = 0;
  for (const r of records) bytes += Buffer.byteLength(r.key ?? '') + (r.value === null ? 0 : Buffer.byteLength(r.value));
  return bytes;
}

/** What an adapter over @platformatic/kafka would hand to calwatch: the same IncomingRecord. */
function fromPlatformatic(topic: string, partition: number, offset: bigint, timestamp: bigint, key: Buffer | null | undefined, value: Buffer | null | undefined, headers: Iterable<[Buffer | null, Buffer | null]>): IncomingRecord {
  const named: Record<string, string> = {};
  for (const [name, text] of headers) if (name !== null) named[name.toString('utf8')] = text === null ? '' : text.toString('utf8');
  return {
    topic,
    partition,
    offset: offset.toString(),
    key: key === null || key === undefined || key.length === 0 ? null : key.toString('utf8'),
    value: value ?? null,
    headers: named,
    timestamp: timestamp.toString(),
  };
}

function parseValues(records: readonly IncomingRecord[]): void {
  for (const r of records) if (r.value !== null) JSON.parse(r.value.toString('utf8'));
}

/**
 * The work any client must do for a read, without Kafka: gunzip of batches like the
 * producer's (a send of 1,000 records spread over the partitions) and JSON.parse of every
 * value. What a client costs beyond it is its own overhead.
 */
function decodeFloor(records: readonly OutgoingRecord[], partitions: number): () => Promise<void> {
  const perBatch = Math.ceil(SEND_SIZE / partitions);
  const batches: Buffer[] = [];
  for (let i = 0; i < records.length; i += perBatch) {
    const values = records.slice(i, i + perBatch).map((r) => (r.value === null ? '' : String(r.value)));
    batches.push(gzipSync(Buffer.from(values.join('\n'), 'utf8')));
  }
  return async () => {
    for (const batch of batches) {
      const text = gunzipSync(batch);
      let start = 0;
      for (let end = text.indexOf(10); start < text.length; end = text.indexOf(10, start)) {
        const stop = end === -1 ? text.length : end;
        JSON.parse(text.subarray(start, stop).toString('utf8'));
        start = stop + 1;
      }
    }
  };
}

// ---- readers --------------------------------------------------------------------------

type Reader = (topic: string, expected: number, firstRecord: () => void) => Promise<void>;

/** The adapter's PartitionReader.readToEnd: what state restore uses. */
function adapterReadToEnd(kafka: KafkaClient, partitions: number): Reader {
  return async (topic, expected, firstRecord) => {
    const { records } = await kafka.createPartitionReader().readToEnd(
      topic,
      Array.from({ length: partitions }, (_, p) => p),
      (batch) => {
        firstRecord();
        parseValues(batch);
      },
    );
    if (records !== expected) throw new Error(`adapter readToEnd read ${records} records, expected ${expected}`);
  };
}

/** The adapter's group consumer with a commit after each batch, as the indexer and the notifier run it. */
function kafkajsGroup(kafka: KafkaClient, prefix: string): Reader {
  let runs = 0;
  return async (topic, expected, firstRecord) => {
    let seen = 0;
    let crash: Error | undefined;
    const consumer = kafka.createConsumer({ groupId: `${prefix}kafkajs-group-${++runs}`, maxWaitTimeMs: 100 });
    await consumer.start({
      topics: [topic],
      fromBeginning: true,
      onCrash: (error) => {
        crash = error;
      },
      eachBatch: async (records) => {
        firstRecord();
        parseValues(records);
        seen += records.length;
      },
    });
    try {
      await waitUntil(() => seen >= expected, 300_000, 'the kafkajs group read', () => crash);
    } finally {
      await consumer.stop();
    }
    if (seen !== expected) throw new Error(`kafkajs group consumer read ${seen} records, expected ${expected}`);
  };
}

/**
 * @platformatic/kafka's consume() stream in a group, from the earliest offset, committing by
 * hand. The stream has no batches: records are gathered per fetch ('fetch' marks its end)
 * and the last of each partition is committed, like the adapter's commit per batch.
 */
function platformaticGroup(brokers: string[], prefix: string): Reader {
  let runs = 0;
  return async (topic, expected, firstRecord) => {
    const consumer = new PlatformaticConsumer({
      groupId: `${prefix}platformatic-group-${++runs}`,
      clientId: CLIENT_ID,
      bootstrapBrokers: brokers,
      maxWaitTime: 100,
      maxBytesPerPartition: FETCH_PARTITION_MAX_BYTES,
      autocommit: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
    });
    let seen = 0;
    let failure: Error | undefined;
    try {
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
      let batch: IncomingRecord[] = [];
      const lastOfPartition = new Map<number, PlatformaticMessage>();
      const flush = () => {
        if (batch.length === 0) return;
        parseValues(batch);
        seen += batch.length;
        batch = [];
        for (const message of lastOfPartition.values()) {
          const committing = message.commit();
          if (committing instanceof Promise) committing.catch((error: unknown) => (failure ??= error instanceof Error ? error : new Error(String(error))));
        }
        lastOfPartition.clear();
      };
      stream.on('data', (message: PlatformaticMessage) => {
        firstRecord();
        batch.push(fromPlatformatic(message.topic, message.partition, message.offset, message.timestamp, message.key, message.value, message.headerEntries));
        lastOfPartition.set(message.partition, message);
        // The stream buffers up to highWaterMark records: a batch ends at that size too.
        if (batch.length >= 1_024) flush();
      });
      stream.on('fetch', () => setImmediate(flush));
      stream.on('error', (error: Error) => (failure ??= error));
      await waitUntil(
        () => {
          flush();
          return seen >= expected;
        },
        300_000,
        'the @platformatic/kafka group read',
        () => failure,
      );
      await stream.close();
    } finally {
      await consumer.close(true);
    }
    if (seen !== expected) throw new Error(`@platformatic/kafka group consumer read ${seen} records, expected ${expected}`);
  };
}

/**
 * A PartitionReader over @platformatic/kafka: no group at all (consume() always joins one),
 * Consumer.fetch() from each partition's start offset to the end offset it had when the read
 * began, one fetch request per leader for all of its partitions.
 */
function platformaticReadToEnd(brokers: string[], prefix: string, partitions: number): Reader {
  return async (topic, expected, firstRecord) => {
    const consumer = new PlatformaticConsumer({ groupId: `${prefix}unused`, clientId: CLIENT_ID, bootstrapBrokers: brokers });
    let seen = 0;
    try {
      const metadata = await consumer.metadata({ topics: [topic] });
      const topicMetadata = metadata.topics.get(topic);
      if (topicMetadata === undefined) throw new Error(`no metadata for ${topic}`);
      const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
      const starts = (await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic) ?? [];
      const next = new Map<number, bigint>();
      for (let p = 0; p < partitions; p++) if ((ends[p] ?? 0n) > (starts[p] ?? 0n)) next.set(p, starts[p] ?? 0n);
      while (next.size > 0) {
        const byLeader = new Map<number, number[]>();
        for (const p of next.keys()) {
          const leader = topicMetadata.partitions[p]!.leader;
          const list = byLeader.get(leader);
          if (list === undefined) byLeader.set(leader, [p]);
          else list.push(p);
        }
        await Promise.all(
          [...byLeader].map(async ([node, leaderPartitions]) => {
            const response = await consumer.fetch({
              node,
              maxWaitTime: 100,
              topics: [
                {
                  topicId: topicMetadata.id,
                  partitions: leaderPartitions.map((partition) => ({
                    partition,
                    fetchOffset: next.get(partition)!,
                    partitionMaxBytes: FETCH_PARTITION_MAX_BYTES,
                    currentLeaderEpoch: -1,
                    lastFetchedEpoch: -1,
                  })),
                },
              ],
            });
            for (const answer of response.responses) {
              for (const part of answer.partitions) {
                const from = next.get(part.partitionIndex);
                const end = ends[part.partitionIndex];
                if (from === undefined || end === undefined) continue;
                if (part.errorCode !== 0) throw new Error(`fetch of ${topic}/${part.partitionIndex} failed with error code ${part.errorCode}`);
                const records: IncomingRecord[] = [];
                let after = from;
                for (const batch of part.records ?? []) {
                  after = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
                  for (const record of batch.records) {
                    const offset = batch.firstOffset + BigInt(record.offsetDelta);
                    // A compressed batch starts before the offset asked for; nothing past the end counts.
                    if (offset < from || offset >= end) continue;
                    records.push(fromPlatformatic(topic, part.partitionIndex, offset, batch.firstTimestamp + record.timestampDelta, record.key, record.value, record.headers));
                  }
                }
                if (records.length > 0) {
                  firstRecord();
                  parseValues(records);
                  seen += records.length;
                }
                if (after >= end) next.delete(part.partitionIndex);
                else next.set(part.partitionIndex, after);
              }
            }
          }),
        );
      }
    } finally {
      await consumer.close(true);
    }
    if (seen !== expected) throw new Error(`@platformatic/kafka fetch reader read ${seen} records, expected ${expected}`);
  };
}

// ---- producers ------------------------------------------------------------------------

type ProduceRun = (records: readonly OutgoingRecord[]) => Promise<void>;

/** The adapter's producer (kafkajs, or @platformatic/kafka with KAFKA_CLIENT=platformatic): idempotent, acks=all, one request in flight, compressed or not. */
function adapterProduce(kafka: KafkaClient, compress: boolean): ProduceRun {
  return async (records) => {
    const producer = await kafka.createProducer({ compress });
    try {
      for (let i = 0; i < records.length; i += SEND_SIZE) await producer.send(records.slice(i, i + SEND_SIZE));
    } finally {
      await producer.close();
    }
  };
}

/** @platformatic/kafka's producer: idempotent (acks=all, one request in flight), Java-compatible key hashing. */
function platformaticProduce(brokers: string[], compression: CompressionAlgorithmValue): ProduceRun {
  return async (records) => {
    const producer = new PlatformaticProducer({
      clientId: CLIENT_ID,
      bootstrapBrokers: brokers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      compression,
      partitioner: compatibilityPartitioner,
    });
    try {
      for (let i = 0; i < records.length; i += SEND_SIZE) {
        const messages = records.slice(i, i + SEND_SIZE).map((r) => ({
          topic: r.topic,
          key: r.key === null ? undefined : Buffer.from(r.key, 'utf8'),
          value: r.value === null ? undefined : Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value, 'utf8'),
          ...(r.partition === undefined ? {} : { partition: r.partition }),
        }));
        await producer.send({ messages });
      }
    } finally {
      await producer.close();
    }
  };
}

// ---- the run --------------------------------------------------------------------------

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function summarize(name: string, samples: readonly Sample[], records: number, bytes: number, notes?: string): KafkaClientsBenchResult {
  const rates = samples.map((s) => records / (s.ms / 1000));
  const readRates = samples.filter((s) => s.readMs !== undefined).map((s) => records / (s.readMs! / 1000));
  const cpuPer100k = samples.map((s) => (s.cpuMs / 1000) * (100_000 / records));
  const mib = bytes / 1_048_576;
  const bestMs = samples.reduce((best, s) => Math.min(best, s.ms), Infinity);
  return {
    name,
    metrics: {
      records,
      mib: Number(mib.toFixed(1)),
      runs: samples.length,
      recordsPerSecondBest: Math.round(records / (bestMs / 1000)),
      recordsPerSecondMedian: Math.round(median(rates)),
      mibPerSecondBest: Number((mib / (bestMs / 1000)).toFixed(1)),
      mibPerSecondMedian: Number(((median(rates) * mib) / records).toFixed(1)),
      ...(readRates.length === 0
        ? {}
        : { readOnlyRecordsPerSecondBest: Math.round(readRates.reduce((a, b) => Math.max(a, b), 0)), readOnlyRecordsPerSecondMedian: Math.round(median(readRates)) }),
      cpuSecondsPer100kBest: Number(cpuPer100k.reduce((a, b) => Math.min(a, b), Infinity).toFixed(3)),
      cpuSecondsPer100kMedian: Number(median(cpuPer100k).toFixed(3)),
      msEach: samples.map((s) => Math.round(s.ms)).join(' '),
    },
    ...(notes === undefined ? {} : { notes }),
  };
}

export async function runKafkaClientsBench(options: KafkaClientsBenchOptions = {}): Promise<KafkaClientsBenchResult[]> {
  const count = options.records ?? 300_000;
  const partitions = options.partitions ?? 6;
  const repeats = options.repeats ?? 3;
  const brokers = await benchBrokers();
  const kafka = createKafkaClient({ connection: { brokers, clientId: CLIENT_ID, ssl: false }, logger: createSilentLogger() });
  // The adapter with KAFKA_CLIENT=platformatic: its producer and reader over @platformatic/kafka (codec from KAFKA_COMPRESSION).
  const adapterPlatformatic = createKafkaClient({
    connection: { brokers, clientId: CLIENT_ID, ssl: false, ...benchKafkaClientSettings(), client: 'platformatic' },
    logger: createSilentLogger(),
  });
  const prefix = `bench-kafka-clients-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.`;
  const results: KafkaClientsBenchResult[] = [];
  const progress = (line: string) => process.stderr.write(`kafka-clients: ${line}\n`);

  const events = simulatedEvents(count);
  const eventsTopic = `${prefix}events`;
  const changelogTopic = `${prefix}changelog`;
  const eventRecords: OutgoingRecord[] = events.map((e) => ({ topic: eventsTopic, key: kafkaKeyOf(e), value: JSON.stringify(e) }));
  const changelog = changelogRecords(events, changelogTopic, partitions);
  const datasets = [
    { label: 'events topic (~600 B JSON, gzip)', topic: eventsTopic, records: eventRecords, bytes: recordBytes(eventRecords) },
    { label: 'changelog-like topic (~200 B JSON, compacted, gzip)', topic: changelogTopic, records: changelog, bytes: recordBytes(changelog) },
  ];

  const admin = await kafka.createAdmin();
  try {
    await admin.ensureTopics([
      { topic: eventsTopic, numPartitions: partitions, compacted: false, retentionMs: 3_600_000 },
      { topic: changelogTopic, numPartitions: partitions, compacted: true },
    ]);
    // Written as calwatch writes them: the adapter's idempotent gzip producer.
    for (const dataset of datasets) await adapterProduce(kafka, true)(dataset.records);
    progress('topics written');

    // Reads: the two ways each client reads a topic to its end, the clients alternating.
    const readers: Array<{ name: string; read: Reader; notes: string }> = [
      { name: 'kafkajs readToEnd (adapter PartitionReader)', read: adapterReadToEnd(kafka, partitions), notes: 'A throw-away group owning every partition, as restore reads changelogs today.' },
      { name: '@platformatic/kafka fetch reader (no group)', read: platformaticReadToEnd(brokers, prefix, partitions), notes: 'Consumer.fetch() per leader from start to end offsets; what a PartitionReader over it would be.' },
      { name: 'KAFKA_CLIENT=platformatic readToEnd (adapter PartitionReader)', read: adapterReadToEnd(adapterPlatformatic, partitions), notes: 'The adapter\'s PartitionReader over @platformatic/kafka fetch, as restore reads with KAFKA_CLIENT=platformatic.' },
      { name: 'kafkajs group consumer (adapter Consumer)', read: kafkajsGroup(kafka, prefix), notes: 'eachBatch with a commit after each batch, as the indexer and the notifier run.' },
      { name: '@platformatic/kafka consume() stream in a group', read: platformaticGroup(brokers, prefix), notes: 'mode earliest, manual commit of the last record per partition after each fetch.' },
    ];
    for (const dataset of datasets) {
      const floor = decodeFloor(dataset.records, partitions);
      const floorSamples: Sample[] = [];
      for (let round = 0; round < repeats; round++) floorSamples.push(await measure(floor));
      results.push(summarize(`decode floor, ${dataset.label}: gunzip + JSON.parse without Kafka`, floorSamples, dataset.records.length, dataset.bytes, 'The part of a read no client can avoid; the rest of a reader\'s CPU is the client.'));
      const samples = new Map<string, Sample[]>(readers.map((r) => [r.name, []]));
      for (let round = 0; round < repeats; round++) {
        for (const reader of readers) {
          const sample = await measure((firstRecord) => reader.read(dataset.topic, dataset.records.length, firstRecord));
          samples.get(reader.name)!.push(sample);
          progress(`${dataset.label}: ${reader.name} ${Math.round(sample.ms)} ms, cpu ${Math.round(sample.cpuMs)} ms`);
        }
      }
      for (const reader of readers) {
        results.push(summarize(`read to end, ${dataset.label}: ${reader.name}`, samples.get(reader.name)!, dataset.records.length, dataset.bytes, `${reader.notes} JSON.parse of every value. Rates from the call to the last record; readOnly rates from the first record.`));
      }
    }
  } finally {
    await admin.close();
  }

  // Produce: sends of 1,000 records, each run into a fresh topic deleted right after.
  const producers: Array<{ name: string; produce: ProduceRun }> = [
    { name: 'kafkajs gzip (adapter Producer)', produce: adapterProduce(kafka, true) },
    { name: '@platformatic/kafka gzip', produce: platformaticProduce(brokers, 'gzip') },
    { name: 'KAFKA_CLIENT=platformatic (adapter Producer)', produce: adapterProduce(adapterPlatformatic, true) },
    { name: 'kafkajs uncompressed (adapter Producer)', produce: adapterProduce(kafka, false) },
    { name: '@platformatic/kafka uncompressed', produce: platformaticProduce(brokers, 'none') },
    { name: '@platformatic/kafka lz4', produce: platformaticProduce(brokers, 'lz4') },
    { name: '@platformatic/kafka zstd', produce: platformaticProduce(brokers, 'zstd') },
    { name: '@platformatic/kafka snappy', produce: platformaticProduce(brokers, 'snappy') },
  ];
  const produceBytes = recordBytes(eventRecords);
  const produceSamples = new Map<string, Sample[]>(producers.map((p) => [p.name, []]));
  let produceTopics = 0;
  try {
    for (let round = 0; round < repeats; round++) {
      for (const producer of producers) {
        const topic = `${prefix}produce-${++produceTopics}`;
        const setup = await kafka.createAdmin();
        try {
          await setup.ensureTopics([{ topic, numPartitions: partitions, compacted: false, retentionMs: 3_600_000 }]);
          const records = eventRecords.map((r) => ({ ...r, topic }));
          const sample = await measure(() => producer.produce(records));
          const written = (await setup.endOffsets(topic)).reduce((sum, o) => sum + Number(o.offset), 0);
          if (written !== records.length) throw new Error(`${producer.name} wrote ${written} records, expected ${records.length}`);
          produceSamples.get(producer.name)!.push(sample);
          progress(`produce ${producer.name} ${Math.round(sample.ms)} ms, cpu ${Math.round(sample.cpuMs)} ms`);
          await setup.deleteTopics([topic]);
        } finally {
          await setup.close();
        }
      }
    }
    for (const producer of producers) {
      results.push(
        summarize(`produce events: ${producer.name}`, produceSamples.get(producer.name)!, eventRecords.length, produceBytes, 'Idempotent, acks=all, awaited sends of 1,000 records (~600 B JSON) to 6 partitions by key.'),
      );
    }
  } finally {
    await deleteTopicsWithPrefix(kafka, prefix);
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await runKafkaClientsBench();
  await writeBenchResults('kafka-clients', results);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}
