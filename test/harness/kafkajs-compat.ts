/**
 * Checks that kafkajs can do, against a live broker, everything calwatch asks of Kafka:
 * admin (metadata, create/delete topics incl. cleanup.policy=compact, describe configs,
 * fetch topic and group offsets), idempotent produce, consumer groups with manual commits
 * and resume-from-commit, and transactions (commit, abort, offsets in the transaction,
 * read_committed consumers). Used to choose the broker version the local stack runs.
 *
 *   node --import tsx test/harness/kafkajs-compat.ts [brokers]   (default: the stack's)
 *
 * Prints one line per check and exits non-zero when any fails.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type KafkaMessage } from 'kafkajs';
import { loadStackSettings, readStackInfo } from '@calwatch/stack';

interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

async function consumeUntil(
  consumer: Consumer,
  topic: string,
  count: number,
  timeoutMs: number,
  opts: { commit: boolean },
): Promise<KafkaMessage[]> {
  const seen: KafkaMessage[] = [];
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`saw ${seen.length}/${count} messages in ${timeoutMs} ms`)), timeoutMs);
    consumer
      .run({
        autoCommit: false,
        eachMessage: async ({ topic: t, partition, message }) => {
          seen.push(message);
          if (opts.commit) {
            await consumer.commitOffsets([{ topic: t, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
          }
          if (seen.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  return seen;
}

export async function checkKafkajsCompat(brokers: string[]): Promise<CheckResult[]> {
  const suffix = randomBytes(4).toString('hex');
  const kafka = new Kafka({ clientId: `compat-${suffix}`, brokers, logLevel: logLevel.NOTHING, retry: { retries: 3 } });
  const admin = kafka.admin();
  const results: CheckResult[] = [];
  const run = async (name: string, fn: () => Promise<string>): Promise<void> => {
    try {
      results.push({ name, ok: true, detail: await fn() });
    } catch (error) {
      results.push({ name, ok: false, detail: error instanceof Error ? error.message : String(error) });
    }
  };
  const plain = `compat-plain-${suffix}`;
  const compact = `compat-compact-${suffix}`;
  const txOut = `compat-tx-${suffix}`;
  const group = `compat-group-${suffix}`;
  await admin.connect();
  try {
    await run('admin: describeCluster (metadata)', async () => {
      const cluster = await admin.describeCluster();
      return `controller ${cluster.controller}, ${cluster.brokers.length} broker(s)`;
    });
    await run('admin: createTopics incl. cleanup.policy=compact', async () => {
      const created = await admin.createTopics({
        waitForLeaders: true,
        topics: [
          { topic: plain, numPartitions: 3, replicationFactor: 1 },
          { topic: compact, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
          { topic: txOut, numPartitions: 1, replicationFactor: 1 },
        ],
      });
      if (!created) throw new Error('createTopics returned false');
      return 'created 3 topics';
    });
    await run('admin: describeConfigs shows compact', async () => {
      const res = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2 /* TOPIC */, name: compact, configNames: ['cleanup.policy'] }],
      });
      const value = res.resources[0]?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue;
      if (value !== 'compact') throw new Error(`cleanup.policy is ${String(value)}`);
      return 'cleanup.policy=compact';
    });
    await run('admin: fetchTopicMetadata', async () => {
      const md = await admin.fetchTopicMetadata({ topics: [plain] });
      const partitions = md.topics[0]?.partitions.length ?? 0;
      if (partitions !== 3) throw new Error(`expected 3 partitions, got ${partitions}`);
      return '3 partitions';
    });

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await run('producer: idempotent send (acks=all, keys, headers)', async () => {
      const res = await producer.send({
        topic: plain,
        acks: -1,
        messages: Array.from({ length: 10 }, (_, i) => ({ key: `hwid-${i % 4}`, value: `v${i}`, headers: { n: String(i) } })),
      });
      await producer.send({ topic: compact, messages: [{ key: 'k', value: 'a' }, { key: 'k', value: 'b' }] });
      return `${res.length} partition result(s)`;
    });
    await run('admin: fetchTopicOffsets', async () => {
      const offsets = await admin.fetchTopicOffsets(plain);
      const total = offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
      if (total !== 10) throw new Error(`expected 10 records, offsets say ${total}`);
      return '10 records across partitions';
    });
    await producer.disconnect();

    await run('consumer group: manual commits + admin.fetchOffsets + resume', async () => {
      const first = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
      await first.connect();
      const seen = await consumeUntil(first, plain, 10, 30_000, { commit: true });
      await first.disconnect();
      const committed = await admin.fetchOffsets({ groupId: group, topics: [plain] });
      // A partition nobody committed to reports -1.
      const sum = committed[0]?.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0) ?? -1;
      if (sum !== 10) throw new Error(`committed offsets sum to ${sum}, expected 10`);
      const p2 = kafka.producer();
      await p2.connect();
      await p2.send({ topic: plain, messages: [{ key: 'hwid-0', value: 'after-restart' }] });
      await p2.disconnect();
      const second = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
      await second.connect();
      const resumed = await consumeUntil(second, plain, 1, 30_000, { commit: true });
      await second.disconnect();
      const value = resumed[0]?.value?.toString();
      if (value !== 'after-restart') throw new Error(`resumed at '${String(value)}', not after the commit`);
      return `consumed ${seen.length}, committed, resumed at the next record`;
    });

    await run('transactions: commit + abort + sendOffsets, read_committed consumer', async () => {
      const tx = kafka.producer({ transactionalId: `compat-tx-${suffix}`, idempotent: true, maxInFlightRequests: 1 });
      await tx.connect();
      const aborted = await tx.transaction();
      await aborted.send({ topic: txOut, messages: [{ key: 'a', value: 'aborted' }] });
      await aborted.abort();
      const committed = await tx.transaction();
      await committed.send({ topic: txOut, messages: [{ key: 'c', value: 'committed' }] });
      await committed.sendOffsets({ consumerGroupId: `${group}-tx`, topics: [{ topic: plain, partitions: [{ partition: 0, offset: '1' }] }] });
      await committed.commit();
      await tx.disconnect();
      const reader = kafka.consumer({ groupId: `${group}-reader`, readUncommitted: false });
      await reader.connect();
      // The aborted record sits before the committed one: a consumer that broke isolation
      // would deliver it first, so reading up to the committed record is enough to see it.
      const got = await consumeUntil(reader, txOut, 1, 30_000, { commit: false });
      await reader.disconnect();
      const values = got.map((m) => m.value?.toString());
      if (values.includes('aborted') || !values.includes('committed')) throw new Error(`read_committed saw ${values.join(',')}`);
      const txOffsets = await admin.fetchOffsets({ groupId: `${group}-tx`, topics: [plain] });
      const p0 = txOffsets[0]?.partitions.find((p) => p.partition === 0)?.offset;
      if (p0 !== '1') throw new Error(`offset committed in the transaction is ${String(p0)}, expected 1`);
      return 'aborted record hidden, committed record and transactional offset visible';
    });

    await run('admin: deleteTopics + deleteGroups', async () => {
      await admin.deleteGroups([group, `${group}-tx`, `${group}-reader`]);
      await admin.deleteTopics({ topics: [plain, compact, txOut] });
      return 'deleted';
    });
  } finally {
    await admin.disconnect();
  }
  return results;
}

async function main(): Promise<number> {
  const arg = process.argv[2];
  const brokers = arg !== undefined ? arg.split(',') : (await readStackInfo({ settings: loadStackSettings(process.env) }))?.kafka.brokers;
  if (brokers === undefined) {
    process.stderr.write('no brokers given and no local stack running (calwatch stack up)\n');
    return 2;
  }
  const results = await checkKafkajsCompat(brokers);
  for (const r of results) process.stdout.write(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name}: ${r.detail}\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    },
  );
}
