/**
 * Helpers shared by the indexer's integration tests: topics for one test's prefix,
 * producing messages as the processor would, reading the dead-letter topic, and waiting
 * for documents to become searchable.
 */
import {
  buildTopicNames,
  DeadLetter,
  type Admin,
  type ElasticsearchClient,
  type IncomingRecord,
  type KafkaClient,
  type TopicNames,
} from '@calwatch/shared';

export async function waitUntil<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : ` (last error: ${String(last)})`}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Creates the indexer's input and dead-letter topics for a test prefix. */
export async function createIndexerTopics(admin: Admin, prefix: string, partitions = 3): Promise<TopicNames> {
  const topics = buildTopicNames(prefix);
  await admin.ensureTopics([topics.findings, topics.enriched, topics.deadLetter].map((topic) => ({ topic, numPartitions: partitions, compacted: false })));
  return topics;
}

export async function deleteIndexerTopics(admin: Admin, topics: TopicNames): Promise<void> {
  await admin.deleteTopics([topics.findings, topics.enriched, topics.deadLetter]).catch(() => undefined);
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
    await waitUntil(async () => (seen.length >= expected ? true : undefined), timeoutMs, `${expected} dead letters on ${topic}`);
    return seen;
  } finally {
    await consumer.stop();
  }
}
