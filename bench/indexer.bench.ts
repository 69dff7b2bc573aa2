/**
 * The indexer on a real broker and node:
 *  - throughput: enriched events already on the topic, indexer started cold; documents
 *    per second until every offset is committed (Elasticsearch acknowledged them all),
 *    with normal refreshes and with refresh_interval -1 during the load (replay mode);
 *  - latency: events produced one at a time at a steady rate while the indexer runs;
 *    topic-to-searchable p50/p99 = from the producer's acknowledgement until a search
 *    (no forced refresh) finds the document.
 *
 *   npm run bench -- indexer
 *   node --import tsx bench/indexer.bench.ts          (writes bench/results/indexer.json)
 *
 * Kafka and Elasticsearch come from KAFKA_BROKERS / ELASTICSEARCH_URL (+ credentials) or
 * the local stack (`calwatch stack up`). Topics, indices and templates get a unique prefix
 * and are deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createElasticsearchClient, type ElasticsearchClient } from '@calwatch/elasticsearch';
import { createKafkaClient, type Admin, type KafkaClient } from '@calwatch/kafka';
import { buildTopicNames } from '@calwatch/model';
import { createSilentLogger, type ElasticsearchConnection } from '@calwatch/runtime';
import { buildIndexNames, createIndexerService, installElasticsearchSetup, loadIndexerConfig, withRefreshSuspended, type IndexNames } from '@calwatch/indexer';
import { buildSampleLicenseEvent } from '@calwatch/indexer/testing';
import { loadStackSettings, readStackInfo } from '@calwatch/stack';
import { deleteIndexSet } from '../test/harness/cleanup';
import { writeBenchResults } from './results-file';

interface IndexerBenchResult {
  name: string;
  metrics: Record<string, number | string>;
  notes?: string;
}

export interface IndexerBenchOptions {
  /** Documents of each throughput run. */
  documents?: number;
  /** Events of the latency run and their rate. */
  latencyEvents?: number;
  latencyPerSecond?: number;
}

const PARTITIONS = 3;

async function connections(): Promise<{ brokers: string[]; elasticsearch: ElasticsearchConnection }> {
  const env = process.env;
  const brokers = env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter((b) => b !== '');
  if (brokers !== undefined && brokers.length > 0 && env.ELASTICSEARCH_URL) {
    const elasticsearch: ElasticsearchConnection = { url: env.ELASTICSEARCH_URL, tlsInsecure: env.ELASTICSEARCH_TLS_INSECURE === 'true' };
    if (env.ELASTICSEARCH_API_KEY) elasticsearch.auth = { apiKey: env.ELASTICSEARCH_API_KEY };
    else if (env.ELASTICSEARCH_USERNAME) elasticsearch.auth = { username: env.ELASTICSEARCH_USERNAME, password: env.ELASTICSEARCH_PASSWORD ?? '' };
    return { brokers, elasticsearch };
  }
  const info = await readStackInfo({ settings: loadStackSettings(process.env) });
  if (info === undefined) throw new Error('no KAFKA_BROKERS/ELASTICSEARCH_URL and no local stack; run `calwatch stack up`');
  return {
    brokers: info.kafka.brokers,
    elasticsearch: { url: info.elasticsearch.url, auth: { username: info.elasticsearch.username, password: info.elasticsearch.password }, tlsInsecure: false },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function caughtUp(admin: Admin, group: string, topic: string): Promise<boolean> {
  const [ends, committed] = await Promise.all([admin.endOffsets(topic), admin.committedOffsets(group, topic)]);
  return ends.every((end) => end.offset === '0' || committed.find((c) => c.partition === end.partition)?.offset === end.offset);
}

interface Run {
  prefix: string;
  kafka: KafkaClient;
  admin: Admin;
  client: ElasticsearchClient;
  names: IndexNames;
  env: Record<string, string>;
}

async function withRun<T>(tag: string, conn: Awaited<ReturnType<typeof connections>>, body: (run: Run) => Promise<T>): Promise<T> {
  const prefix = `bench-ix-${tag}-${randomBytes(4).toString('hex')}`;
  const kafka = createKafkaClient({ connection: { brokers: conn.brokers, clientId: 'calwatch-bench', ssl: false }, logger: createSilentLogger() });
  const admin = await kafka.createAdmin();
  const client = createElasticsearchClient({ connection: conn.elasticsearch });
  const names = buildIndexNames(`${prefix}-`);
  const topics = buildTopicNames(`${prefix}.`);
  await admin.ensureTopics([topics.findings, topics.enriched, topics.deadLetter].map((topic) => ({ topic, numPartitions: PARTITIONS, compacted: false })));
  await installElasticsearchSetup({ client, names });
  const env: Record<string, string> = {
    KAFKA_BROKERS: conn.brokers.join(','),
    ELASTICSEARCH_URL: conn.elasticsearch.url,
    CALWATCH_TOPIC_PREFIX: `${prefix}.`,
    CALWATCH_INDEX_PREFIX: names.prefix,
    INDEXER_GROUP_ID: `${prefix}-indexer`,
    INDEXER_METRICS_PORT: '0',
    LOG_LEVEL: 'silent',
  };
  const auth = conn.elasticsearch.auth;
  if (auth !== undefined && 'username' in auth) Object.assign(env, { ELASTICSEARCH_USERNAME: auth.username, ELASTICSEARCH_PASSWORD: auth.password });
  if (auth !== undefined && 'apiKey' in auth) env.ELASTICSEARCH_API_KEY = auth.apiKey;
  try {
    return await body({ prefix, kafka, admin, client, names, env });
  } finally {
    await admin.deleteTopics([topics.findings, topics.enriched, topics.deadLetter]).catch(() => undefined);
    await admin.close();
    await deleteIndexSet(client, names);
    await client.close();
  }
}

async function throughput(conn: Awaited<ReturnType<typeof connections>>, documents: number, suspendRefresh: boolean): Promise<IndexerBenchResult> {
  return withRun(suspendRefresh ? 'load' : 'tp', conn, async ({ kafka, admin, client, names, env }) => {
    const topic = buildTopicNames(env.CALWATCH_TOPIC_PREFIX).enriched;
    const producer = await kafka.createProducer();
    const base = Date.parse('2026-11-01T00:00:00.000Z');
    for (let start = 0; start < documents; start += 2_000) {
      const count = Math.min(2_000, documents - start);
      await producer.send(
        Array.from({ length: count }, (_, i) => {
          const seq = start + i;
          const event = buildSampleLicenseEvent({ seq, eventTime: new Date(base + seq * 1_000).toISOString(), classification: seq % 10 === 0 ? 'cloned-image' : 'healthy' });
          return { topic, key: `k${seq % 16}`, value: JSON.stringify(event) };
        }),
      );
    }
    await producer.close();
    const config = loadIndexerConfig(env);
    // Indexing time proper: from the start of the first batch to the end of the last one.
    let firstStart = Number.POSITIVE_INFINITY;
    let lastEnd = 0;
    const service = createIndexerService({
      config,
      logger: createSilentLogger(),
      kafka,
      elasticsearch: client,
      onBatch: (result) => {
        const end = performance.now();
        firstStart = Math.min(firstStart, end - result.elapsedMs);
        lastEnd = Math.max(lastEnd, end);
      },
    });
    const load = async (): Promise<number> => {
      const started = performance.now();
      await service.start();
      while (!(await caughtUp(admin, config.groupId, topic))) await new Promise((resolve) => setTimeout(resolve, 100));
      return performance.now() - started;
    };
    const elapsedMs = suspendRefresh ? await withRefreshSuspended(client, names, load) : await load();
    await service.stop();
    await client.indices.refresh({ index: names.enrichedAlias });
    const indexed = (await client.count({ index: names.enrichedAlias })).count;
    if (indexed !== documents) throw new Error(`indexed ${indexed} of ${documents} documents`);
    const stats = service.stats();
    return {
      name: suspendRefresh ? 'throughput, refresh suspended (replay)' : 'throughput',
      metrics: {
        documents,
        coldStartToCommittedMs: Math.round(elapsedMs),
        indexingMs: Math.round(lastEnd - firstStart),
        docsPerSecond: Math.round((documents / (lastEnd - firstStart)) * 1000),
        batches: stats.batches,
        retries: stats.retries,
        bulkFlushBytes: config.bulk.flushBytes,
        bulkConcurrency: config.bulk.concurrency,
        partitionsConcurrency: config.partitionsConcurrency,
      },
      notes:
        'docsPerSecond over indexingMs (first batch start to last batch acknowledged); coldStartToCommittedMs adds the consumer-group join and the last commit. ~1.5 kB license.issued events.',
    };
  });
}

async function latency(conn: Awaited<ReturnType<typeof connections>>, events: number, perSecond: number): Promise<IndexerBenchResult> {
  return withRun('lat', conn, async ({ kafka, admin, client, names, env }) => {
    const topic = buildTopicNames(env.CALWATCH_TOPIC_PREFIX).enriched;
    const config = loadIndexerConfig(env);
    const service = createIndexerService({ config, logger: createSilentLogger(), kafka, elasticsearch: client });
    await service.start();
    const producer = await kafka.createProducer();
    // Warm-up: the group has joined and the first index exists before timing starts.
    const warm = buildSampleLicenseEvent({ seq: 1_000_000, eventTime: new Date().toISOString() });
    await producer.send([{ topic, key: 'warm', value: JSON.stringify(warm) }]);
    while (!(await caughtUp(admin, config.groupId, topic))) await new Promise((resolve) => setTimeout(resolve, 100));

    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let producing = true;
    const poller = (async () => {
      while (producing || sentAt.size > 0) {
        const ids = [...sentAt.keys()];
        if (ids.length > 0) {
          const found = await client.search<unknown>({ index: names.enrichedAlias, size: ids.length, _source: false, query: { ids: { values: ids } } });
          const now = performance.now();
          for (const hit of found.hits.hits) {
            const at = sentAt.get(hit._id!);
            if (at === undefined) continue;
            latencies.push(now - at);
            sentAt.delete(hit._id!);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const gapMs = 1000 / perSecond;
    for (let i = 0; i < events; i++) {
      const event = buildSampleLicenseEvent({ seq: i, eventTime: new Date().toISOString() });
      const started = performance.now();
      await producer.send([{ topic, key: `k${i % 16}`, value: JSON.stringify(event) }]);
      sentAt.set(event.event.eventId, performance.now());
      const spent = performance.now() - started;
      if (spent < gapMs) await new Promise((resolve) => setTimeout(resolve, gapMs - spent));
    }
    producing = false;
    const deadline = Date.now() + 60_000;
    while (sentAt.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const lost = sentAt.size;
    sentAt.clear();
    await poller;
    await producer.close();
    await service.stop();
    latencies.sort((a, b) => a - b);
    return {
      name: 'latency topic-to-searchable',
      metrics: {
        events,
        eventsPerSecond: perSecond,
        p50Ms: Math.round(percentile(latencies, 50)),
        p99Ms: Math.round(percentile(latencies, 99)),
        maxMs: Math.round(latencies.at(-1) ?? Number.NaN),
        notFound: lost,
        fetchMaxWaitMs: config.fetchMaxWaitMs,
        refreshInterval: '1s',
      },
      notes:
        'From the producer acknowledgement to the first search (polled every 20 ms, no forced refresh) that finds the document; ' +
        'dominated by the 1 s refresh interval. The collector-to-topic part is measured by the ingest benchmarks.',
    };
  });
}

export async function runIndexerBench(options: IndexerBenchOptions = {}): Promise<IndexerBenchResult[]> {
  const conn = await connections();
  const documents = options.documents ?? 20_000;
  // Warm-up (JIT, connections, first index creation); its numbers are not reported.
  await throughput(conn, 2_000, false);
  return [
    await throughput(conn, documents, false),
    await throughput(conn, documents, true),
    await latency(conn, options.latencyEvents ?? 200, options.latencyPerSecond ?? 20),
  ];
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] !== undefined && self.endsWith(process.argv[1].replace(/^.*\//, '')) && process.argv[1].includes('indexer.bench')) {
  const results = await runIndexerBench();
  await writeBenchResults('indexer', results);
  process.stdout.write(JSON.stringify(results, null, 2) + '\n');
}
