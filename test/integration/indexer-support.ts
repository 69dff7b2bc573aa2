/**
 * Helpers shared by the indexer's integration tests: a client, topics and a producer for
 * one test's prefix, reading the dead-letter topic, and waiting for documents to become
 * searchable and offsets to be committed.
 */
import { type ElasticsearchClient } from '@calwatch/elasticsearch';
import { createKafkaClient, type Admin, type IncomingRecord, type KafkaClient, type Producer } from '@calwatch/kafka';
import { buildTopicNames, DeadLetter, type TopicNames } from '@calwatch/model';
import { createSilentLogger } from '@calwatch/runtime';
import { getTestServices } from '../harness/services';
import { waitFor } from '../harness/wait-for';


/** One indexer test's side of the broker: the indexer's input and dead-letter topics under its prefix. */
export interface IndexerBroker {
  kafka: KafkaClient;
  admin: Admin;
  topics: TopicNames;
  producer: Producer;
  /** Closes the producer, deletes the topics and closes the admin. */
  close(): Promise<void>;
}

export async function openIndexerBroker(topicPrefix: string, partitions = 3): Promise<IndexerBroker> {
  const kafka = createKafkaClient({ connection: getTestServices().kafka, logger: createSilentLogger() });
  const admin = await kafka.createAdmin();
  const topics = buildTopicNames(topicPrefix);
  const used = [topics.findings, topics.enriched, topics.revocations, topics.deadLetter];
  const deleteTopics = () => admin.deleteTopics(used).catch(() => undefined);
  try {
    await admin.ensureTopics(used.map((topic) => ({ topic, numPartitions: partitions, compacted: false })));
    const producer = await kafka.createProducer();
    return {
      kafka,
      admin,
      topics,
      producer,
      async close() {
        await producer.close();
        await deleteTopics();
        await admin.close();
      },
    };
  } catch (error) {
    await deleteTopics();
    await admin.close();
    throw error;
  }
}

/** Documents in `index` after a refresh (what a search sees). */
export async function countDocuments(client: ElasticsearchClient, index: string, query?: object): Promise<number> {
  await client.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true });
  const result = await client.count({ index, ignore_unavailable: true, allow_no_indices: true, ...(query === undefined ? {} : { query }) });
  return result.count;
}

/** True once the group committed every partition of `topic` up to its end. */
export async function isCaughtUp(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  const [ends, committed] = await Promise.all([admin.endOffsets(topic), admin.committedOffsets(groupId, topic)]);
  return ends.every((end) => {
    const c = committed.find((o) => o.partition === end.partition);
    return end.offset === '0' || (c !== undefined && c.offset === end.offset);
  });
}

/** Waits until a search of `index` counts `count` documents. */
export async function waitForCount(client: ElasticsearchClient, index: string, count: number, timeoutMs: number, what: string): Promise<void> {
  await waitFor(async () => ((await countDocuments(client, index)) === count ? true : undefined), timeoutMs, what, { tolerateErrors: true });
}

/** Waits until the group committed every partition of `topic` up to its end. */
export async function waitForCaughtUp(admin: Admin, groupId: string, topic: string, timeoutMs: number, what: string): Promise<void> {
  await waitFor(async () => ((await isCaughtUp(admin, groupId, topic)) ? true : undefined), timeoutMs, what, { tolerateErrors: true });
}

/** Reads every dead letter on the topic (a throw-away group, from the beginning). */
export async function readDeadLetters(kafka: KafkaClient, topic: string, expected: number, timeoutMs: number): Promise<Array<{ record: IncomingRecord; letter: DeadLetter }>> {
  const seen: Array<{ record: IncomingRecord; letter: DeadLetter }> = [];
  const consumer = kafka.createConsumer({ groupId: `${topic}-reader-${Date.now()}`, maxWaitTimeMs: 100 });
  await consumer.start({
    topics: [topic],
    fromBeginning: true,
    eachBatch: async (records) => {
      for (const record of records) seen.push({ record, letter: DeadLetter.parse(JSON.parse(record.value!.toString('utf8'))) });
    },
  });
  try {
    await waitFor(async () => (seen.length >= expected ? true : undefined), timeoutMs, `${expected} dead letters on ${topic}`, { tolerateErrors: true });
    return seen;
  } finally {
    await consumer.stop();
  }
}
