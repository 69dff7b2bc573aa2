/**
 * Every service serves Prometheus text at /metrics with its probes beside it: the collector
 * on its API port, the processor, the indexer and the notifier on their probe port (0 here,
 * a free one). A small fleet posted to the collector moves each service's series, and the
 * series agree with what is in Kafka: the processor's state size with its compacted
 * changelog (and its restore with the changelog's records), the indexer's and the notifier's
 * input with what the processor wrote.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollectorService, loadCollectorConfig, type CollectorService } from '@calwatch/collector';
import { createKafkaClient, ensureCalwatchTopics, type KafkaClient } from '@calwatch/kafka';
import { buildTopicNames, type TopicNames } from '@calwatch/model';
import { createNotifierService, loadNotifierConfig, type NotifierService } from '@calwatch/notifier';
import { createProcessorService, loadProcessorConfig, parseCoreConfig } from '@calwatch/processor';
import { createSilentLogger, retry } from '@calwatch/runtime';
import { parseMix, simulateFleet } from '@calwatch/simulator';
import type { PipelineServices } from '@calwatch/cli';
import { deleteIndexSet, deleteTopicsWithPrefix } from '../harness/cleanup';
import { buildTestEnv, uniqueName } from '../harness/services';
import { readTopicToEnd } from '../harness/topic-reader';
import { waitFor } from '../harness/wait-for';
import { startTestPipeline } from './pipeline-services';

const TOKEN = 'metrics-integration-token-0123456789';
const PARTITIONS = 2;
const DAY_MS = 86_400_000;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition: one sample per line that is not a comment. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (match === null) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

class Scrape {
  constructor(readonly samples: Sample[]) {}
  names(): Set<string> {
    return new Set(this.samples.map((s) => s.name));
  }
  /** Sum of a series over the label sets that match `labels`. */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((total, s) => total + s.value, 0);
  }
  series(name: string): Sample[] {
    return this.samples.filter((s) => s.name === name);
  }
}

/** The state entries a compacted changelog would keep (the last record per key), and their key plus value bytes. */
function compactedStateSize(records: ReadonlyArray<{ partition: number; key: string | null; value: Buffer | null }>): { entries: number; bytes: number } {
  const compacted = new Map<string, number>();
  for (const record of records) {
    if (record.key === null || !record.key.startsWith('[')) continue;
    const key = `${record.partition}|${record.key}`;
    if (record.value === null) compacted.delete(key);
    else compacted.set(key, Buffer.byteLength(record.key) + record.value.length);
  }
  return { entries: compacted.size, bytes: [...compacted.values()].reduce((a, b) => a + b, 0) };
}

async function scrape(port: number): Promise<Scrape> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return new Scrape(parseExposition(await response.text()));
}

async function isReady(port: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  await response.body?.cancel();
  return response.status === 200;
}

/** Every partition of the topic has a lag series, and it is 0. */
function caughtUp(scraped: Scrape, series: string, topic: string): boolean {
  const lag = scraped.series(series).filter((s) => s.labels['topic'] === topic);
  return lag.length === PARTITIONS && lag.every((s) => s.value === 0);
}

let name: string;
let env: Record<string, string>;
let topics: TopicNames;
let kafka: KafkaClient;
let collector: CollectorService | undefined;
let pipeline: PipelineServices | undefined;
let notifier: NotifierService | undefined;

beforeAll(async () => {
  name = uniqueName('calwatch-metrics');
  env = buildTestEnv(
    {
      COLLECTOR_HOST: '127.0.0.1',
      COLLECTOR_PORT: '0',
      COLLECTOR_TOKENS: TOKEN,
      NOTIFIER_GROUP_ID: `${name}-notifier`,
      NOTIFIER_FROM_BEGINNING: 'true',
      NOTIFIER_TICK_INTERVAL_MS: '200',
      LOG_LEVEL: 'silent',
    },
    name,
  );
  topics = buildTopicNames(`${name}.`);
  kafka = createKafkaClient({ connection: loadCollectorConfig(env).kafka, logger: createSilentLogger() });
  // A broker that has just created other tests' topics may answer "not the leader" for a moment.
  await retry(() => ensureCalwatchTopics(kafka, topics, { partitions: PARTITIONS, retentionMs: 3_600_000, deadLetterRetentionMs: 3_600_000 }), {
    retries: 5,
    minDelayMs: 500,
    maxDelayMs: 2_000,
  });
}, 60_000);

afterAll(async () => {
  await notifier?.stop().catch(() => undefined);
  await collector?.stop().catch(() => undefined);
  const indexNames = pipeline?.indexNames;
  const elasticsearch = pipeline?.elasticsearch;
  if (indexNames !== undefined && elasticsearch !== undefined) await deleteIndexSet(elasticsearch, indexNames).catch(() => undefined);
  await pipeline?.stop().catch(() => undefined);
  await deleteTopicsWithPrefix(kafka, `${name}.`);
}, 120_000);

describe('/metrics of every service', () => {
  it('serves each service its series, and a posted fleet and a restore move them in agreement with Kafka', async () => {
    collector = createCollectorService({ config: loadCollectorConfig(env), logger: createSilentLogger(), kafka });
    await collector.start();
    pipeline = await startTestPipeline(env, name, kafka);
    const notifierConfig = loadNotifierConfig(env);
    notifier = createNotifierService({ config: notifierConfig, logger: createSilentLogger(), kafka: createKafkaClient({ connection: notifierConfig.kafka, logger: createSilentLogger() }) });
    await notifier.start();

    const ports = {
      collector: collector.address()!.port,
      processor: pipeline.processor.probePort!,
      indexer: pipeline.indexer.probePort!,
      notifier: notifier.probePort!,
    };
    for (const [service, port] of Object.entries(ports)) {
      expect(port, service).toBeGreaterThan(0);
      await waitFor(() => isReady(port), 30_000, `${service} /readyz`);
      const healthz = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(healthz.status, service).toBe(200);
      // Every series of a service carries its prefix, the process metrics included.
      const names = (await scrape(port)).names();
      expect([...names].filter((n) => !n.startsWith(`calwatch_${service}_`)), service).toEqual([]);
      expect(names, service).toContain(`calwatch_${service}_process_resident_memory_bytes`);
    }

    const before = {
      processor: await scrape(ports.processor),
      collector: await scrape(ports.collector),
    };
    expect(before.processor.sum('calwatch_processor_records_total')).toBe(0);
    expect(before.processor.sum('calwatch_processor_ready')).toBe(1);

    // A small simulated fleet with cloned images, as canonical NDJSON.
    const nowMs = Date.now();
    const days = 5;
    const fleet = simulateFleet({
      seed: 7,
      devices: 20,
      days,
      start: new Date(Math.floor((nowMs - days * DAY_MS) / 60_000) * 60_000).toISOString(),
      mix: parseMix('cloned=2x3,vdi=4,rebuild=2'),
      pool: 18,
      snapshotIntervalMs: DAY_MS,
    });
    const lines = [...fleet.events()].map((event) => JSON.stringify(event));
    expect(lines.length).toBeGreaterThan(0);
    const response = await fetch(`http://127.0.0.1:${ports.collector}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' },
      body: lines.join('\n') + '\n',
    });
    expect(response.status, await response.text()).toBe(202);

    // Collector: every posted event counted as accepted.
    const collected = await scrape(ports.collector);
    expect(collected.sum('calwatch_collector_records_total', { outcome: 'accepted' }) - before.collector.sum('calwatch_collector_records_total', { outcome: 'accepted' })).toBe(
      lines.length,
    );
    expect(collected.sum('calwatch_collector_http_requests_total', { route: '/v1/events', status: '202' })).toBe(1);

    // Processor: every event handled, each events partition caught up.
    const processed = await waitFor(
      async () => {
        const s = await scrape(ports.processor);
        return s.sum('calwatch_processor_records_total') >= lines.length && caughtUp(s, 'calwatch_processor_partition_lag', topics.events) && s;
      },
      60_000,
      'the processor to handle every event',
      { intervalMs: 200 },
    );
    expect(processed.sum('calwatch_processor_records_total')).toBe(lines.length);
    expect(processed.sum('calwatch_processor_batches_total')).toBeGreaterThan(0);
    expect(processed.series('calwatch_processor_seconds_since_progress')).toHaveLength(PARTITIONS);
    expect(new Set(processed.series('calwatch_processor_last_restore_seconds').map((s) => s.labels['task']))).toEqual(
      new Set(Array.from({ length: PARTITIONS }, (_, p) => `${topics.events}:${p}`)),
    );
    expect(processed.sum('calwatch_processor_last_restore_records')).toBe(0);
    expect(processed.sum('calwatch_processor_restored_tasks_total')).toBe(PARTITIONS);

    // Its state size is what its compacted changelog holds (once nothing moves any more).
    const { entries, bytes, scrape: settled } = await waitFor(
      async () => {
        const first = await scrape(ports.processor);
        const oracle = compactedStateSize(await readTopicToEnd(kafka, topics.processorChangelog, PARTITIONS));
        const second = await scrape(ports.processor);
        const stable = first.sum('calwatch_processor_state_bytes') === second.sum('calwatch_processor_state_bytes');
        return stable && second.sum('calwatch_processor_state_entries') === oracle.entries && second.sum('calwatch_processor_state_bytes') === oracle.bytes && { ...oracle, scrape: second };
      },
      60_000,
      "the processor's state size to match its compacted changelog",
      { intervalMs: 500 },
    );
    expect(entries).toBeGreaterThan(0);
    expect(bytes).toBeGreaterThan(entries);
    expect(new Set(settled.series('calwatch_processor_state_entries').map((s) => s.labels['store']))).toEqual(new Set(['by-hwid', 'by-computer', 'by-server']));
    const enrichedOut = settled.sum('calwatch_processor_enriched_events_total');
    expect(enrichedOut).toBeGreaterThan(0);

    // Indexer: every enriched event the processor wrote reached it, and Elasticsearch has them.
    const indexed = await waitFor(
      async () => {
        const s = await scrape(ports.indexer);
        return s.sum('calwatch_indexer_documents_total', { index: 'enriched' }) >= enrichedOut && s;
      },
      60_000,
      'the indexer to index every enriched event',
      { intervalMs: 200 },
    );
    expect(indexed.sum('calwatch_indexer_documents_total', { index: 'enriched' })).toBe(enrichedOut);
    expect(indexed.sum('calwatch_indexer_documents_total', { index: 'enriched', outcome: 'written' })).toBeGreaterThan(0);
    expect(indexed.sum('calwatch_indexer_batches_total')).toBeGreaterThan(0);
    expect(indexed.sum('calwatch_indexer_dead_letters_total')).toBe(0);
    expect(indexed.sum('calwatch_indexer_ready')).toBe(1);
    expect(indexed.names()).toContain('calwatch_indexer_seconds_since_progress');
    // A partition without a batch yet gets its lag from the group's offsets, read periodically.
    await waitFor(async () => caughtUp(await scrape(ports.indexer), 'calwatch_indexer_partition_lag', topics.enriched), 30_000, 'the indexer lag of every enriched partition', {
      intervalMs: 500,
    });

    // A second processor restores the tasks the first left: its restore read the whole changelog.
    await pipeline.processor.stop();
    // What the first processor left: its timers may have written after the sizes above settled
    // (a state whose due time came in the meantime), up to its stop.
    const changelog = await readTopicToEnd(kafka, topics.processorChangelog, PARTITIONS);
    const changelogRecords = changelog.length;
    const left = compactedStateSize(changelog);
    const successor = createProcessorService({
      config: loadProcessorConfig({ ...env, PROCESSOR_GROUP_ID: `${name}-processor`, PROCESSOR_IDLE_AFTER_MS: '1000', PROCESSOR_PUNCTUATE_INTERVAL_MS: '200' }),
      detection: parseCoreConfig({}),
      logger: createSilentLogger(),
      kafka,
      processMetrics: false,
    });
    try {
      await successor.start();
      const restored = await waitFor(
        async () => {
          const s = await scrape(successor.probePort!);
          return s.series('calwatch_processor_last_restore_seconds').length === PARTITIONS && s;
        },
        60_000,
        'the successor to restore every task',
        { intervalMs: 200 },
      );
      expect(restored.sum('calwatch_processor_last_restore_records')).toBe(changelogRecords);
      expect(restored.sum('calwatch_processor_restored_records_total')).toBe(changelogRecords);
      expect(restored.sum('calwatch_processor_restore_seconds_total')).toBeGreaterThan(0);
      expect(restored.sum('calwatch_processor_state_entries')).toBe(left.entries);
      expect(restored.sum('calwatch_processor_state_bytes')).toBe(left.bytes);
      expect(restored.names()).not.toContain('calwatch_processor_process_resident_memory_bytes');
    } finally {
      await successor.stop();
    }

    // Notifier: read the same enriched events and every finding.
    const notified = await waitFor(
      async () => {
        const s = await scrape(ports.notifier);
        return s.sum('calwatch_notifier_input_records_total', { input: 'enriched' }) >= enrichedOut && s;
      },
      60_000,
      'the notifier to read every enriched event',
      { intervalMs: 200 },
    );
    expect(notified.sum('calwatch_notifier_input_records_total', { input: 'enriched' })).toBe(enrichedOut);
    expect(notified.sum('calwatch_notifier_ready')).toBe(1);
    await waitFor(async () => caughtUp(await scrape(ports.notifier), 'calwatch_notifier_partition_lag', topics.enriched), 30_000, 'the notifier lag of every enriched partition', {
      intervalMs: 500,
    });
  }, 240_000);
});
