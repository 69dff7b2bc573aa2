/**
 * End-to-end latency on the local stack: from the collector's 202 for a snapshot to the
 * finding it causes being searchable in Elasticsearch (collector → Kafka → processor's
 * three stages → findings topic → indexer → refreshed index), p50/p99.
 *
 * Each sample is a new cloned image: one HWID issued a CAL as PC-A, then PC-B, then PC-A
 * again (the A/B/A ping-pong), posted as the next full snapshot of one license server; the
 * sample ends when the cloned-image finding for that HWID is found by a search.
 *
 * Event times are "now", and the processor runs with an allowed lateness of 500 ms and every
 * update emitted: the configured lateness (default 1 h of event time) is a deliberate hold
 * for out-of-order data and adds that much in live use; only 500 ms of it is measured here.
 *
 *   npm run bench -- e2e
 */
import { randomBytes } from 'node:crypto';
import { createKafkaClient, ensureCalwatchTopics } from '@calwatch/kafka';
import { buildTopicNames, normalizeHwid } from '@calwatch/model';
import { createSilentLogger, type Env } from '@calwatch/runtime';
import { createCollectorService, loadCollectorConfig } from '@calwatch/collector';
import { buildIssuedLicenseRow, buildIssuedLicensesCsv, type IssuedLicenseRow } from '@calwatch/collector/testing';
import { parseCoreConfig } from '@calwatch/processor';
import { createPipelineServices, resolveServiceEnv } from '@calwatch/cli';

interface BenchResult {
  name: string;
  metrics: Record<string, number | string>;
  notes?: string;
}

const PARTITIONS = 3;
/** Small, so the measurement is the pipeline's own latency; it is part of what is measured. */
const ALLOWED_LATENESS_MS = 500;
const SERVER = 'LS-BENCH';

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

function clonedImageRows(sample: number, at: number): IssuedLicenseRow[] {
  const hwid = `0x00000002, 0x${(0xb0000000 + sample).toString(16)}, 0x0badf00d, 0x12345678, 0x9abcdef0`;
  const base = sample * 3;
  const row = (offset: number, computer: string): IssuedLicenseRow =>
    buildIssuedLicenseRow(1_000_000 + base + offset, {
      hwid,
      computer,
      issueDate: new Date(at + offset).toISOString(),
      expirationDate: new Date(at + offset + 60 * 86_400_000).toISOString(),
    });
  return [row(0, `CLONE${sample}-A`), row(1, `CLONE${sample}-B`), row(2, `CLONE${sample}-A`)];
}

export async function runE2eBench(options: { samples?: number } = {}): Promise<BenchResult> {
  const samples = options.samples ?? 40;
  const env: Env = await resolveServiceEnv(process.env);
  if (env.KAFKA_BROKERS === undefined) throw new Error('no KAFKA_BROKERS and no local stack; run `calwatch stack up`');
  const logger = createSilentLogger();
  const suffix = randomBytes(4).toString('hex');
  const topicPrefix = `bench-e2e-${suffix}.`;
  const indexPrefix = `bench-e2e-${suffix}-`;
  const kafka = createKafkaClient({ connection: { brokers: env.KAFKA_BROKERS.split(','), clientId: 'calwatch-bench', ssl: false }, logger });
  const topics = buildTopicNames(topicPrefix);
  await ensureCalwatchTopics(kafka, topics, { partitions: PARTITIONS, retentionMs: 3_600_000, deadLetterRetentionMs: 3_600_000 });

  const serviceEnv: Env = { ...env, CALWATCH_TOPIC_PREFIX: topicPrefix, CALWATCH_INDEX_PREFIX: indexPrefix, PROCESSOR_IDLE_AFTER_MS: '300', PROCESSOR_PUNCTUATE_INTERVAL_MS: '100' };
  const token = randomBytes(24).toString('hex');
  const collector = createCollectorService({
    config: loadCollectorConfig({ ...serviceEnv, COLLECTOR_HOST: '127.0.0.1', COLLECTOR_PORT: '0', COLLECTOR_TOKENS: token }),
    logger,
    kafka,
    defaultMetrics: false,
  });
  const pipeline = createPipelineServices({
    env: serviceEnv,
    kafka,
    logger,
    topicPrefix,
    indexPrefix,
    groupPrefix: `bench-e2e-${suffix}`,
    detection: parseCoreConfig({ lateness: { allowedLatenessMs: ALLOWED_LATENESS_MS }, emit: { refreshDays: 0 } }),
    suspendRefresh: false,
  });
  const latencies: number[] = [];
  try {
    await collector.start();
    await pipeline.start();
    const url = `http://127.0.0.1:${collector.address()!.port}/v1/snapshots/issued-licenses`;
    const rows: IssuedLicenseRow[] = [];
    for (let sample = 0; sample < samples; sample++) {
      const at = Date.now();
      const added = clonedImageRows(sample, at);
      for (const row of added) rows.push(row);
      const hwid = normalizeHwid(added[0]!.hwid)!;
      const response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv', 'x-calwatch-snapshot-time': new Date().toISOString() },
        body: buildIssuedLicensesCsv(SERVER, rows),
      });
      if (response.status !== 202) throw new Error(`collector answered ${response.status}: ${await response.text()}`);
      const accepted = performance.now();
      for (;;) {
        const found = await pipeline.elasticsearch.search({
          index: pipeline.indexNames.findingsAlias,
          size: 1,
          query: { bool: { filter: [{ term: { 'calwatch.finding.kind': 'cloned-image' } }, { term: { 'calwatch.finding.hwids': hwid } }] } },
        });
        if (found.hits.hits.length > 0) break;
        if (performance.now() - accepted > 60_000) {
          const admin = await kafka.createAdmin();
          const counts: string[] = [];
          for (const topic of [topics.events, topics.findings, topics.deadLetter]) {
            const ends = await admin.endOffsets(topic);
            counts.push(`${topic}=${ends.reduce((sum, e) => sum + Number(e.offset), 0)}`);
          }
          await admin.close();
          throw new Error(`finding for sample ${sample} not searchable after 60 s (records: ${counts.join(' ')})`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      latencies.push(performance.now() - accepted);
    }
  } finally {
    await collector.stop();
    await pipeline.stop();
    const admin = await kafka.createAdmin();
    await admin.deleteTopics(Object.values(topics)).catch(() => undefined);
    await admin.close();
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    name: 'collector accept -> finding searchable',
    metrics: {
      samples: sorted.length,
      p50Ms: Math.round(percentile(sorted, 50)),
      p99Ms: Math.round(percentile(sorted, 99)),
      maxMs: Math.round(sorted[sorted.length - 1] ?? Number.NaN),
      partitions: PARTITIONS,
      processorIdleAfterMs: 300,
      allowedLatenessMs: ALLOWED_LATENESS_MS,
      indexRefreshInterval: '1s',
    },
    notes:
      'Local stack on the 2-core machine, services in one process. Includes the processor releasing the newest event once its partitions are idle (PROCESSOR_IDLE_AFTER_MS) and the index refresh interval; includes an allowed lateness of 500 ms; a live deployment adds its configured lateness (default 1 h) instead.',
  };
}
