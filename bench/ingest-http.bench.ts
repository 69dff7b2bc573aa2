/**
 * HTTP-to-Kafka ingest throughput of the collector on a real broker: records accepted per
 * second, where "accepted" means the 202 came back, i.e. Kafka acknowledged every record
 * (acks=all). Three workloads: canonical NDJSON events (plain and gzip, several clients at
 * once), and a first issued-licenses snapshot (every row becomes a license.issued event and
 * the whole table a state record), followed by a restart that restores that state.
 *
 *   npm run bench -- ingest-http
 *   node --import tsx bench/ingest-http.bench.ts        (writes bench/results/ingest-http.json)
 *
 * The broker comes from KAFKA_BROKERS or the local stack (`calwatch stack up`). Topics get
 * a unique prefix and are deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { gzipSync } from 'node:zlib';
import { createKafkaClient, ensureCalwatchTopics, type KafkaClient } from '@calwatch/kafka';
import { buildTopicNames } from '@calwatch/model';
import { createSilentLogger } from '@calwatch/runtime';
import { createCollectorService, loadCollectorConfig, type CollectorService } from '@calwatch/collector';
import { buildClientStoreEvent, buildIssuedLicenseRow, buildIssuedLicensesCsv } from '@calwatch/collector/testing';
import { deleteTopicsWithPrefix } from '../test/harness/cleanup';
import { benchBrokers } from './brokers';
import { writeBenchResults } from './results-file';

interface IngestHttpResult {
  name: string;
  metrics: Record<string, number | string>;
  notes?: string;
}

const TOKEN = `bench-${randomBytes(12).toString('hex')}`;
const PARTITIONS = 6;

export interface IngestHttpBenchOptions {
  /** Requests of the events workloads and records per request. */
  requests?: number;
  recordsPerRequest?: number;
  /** Clients posting at once. */
  concurrency?: number;
  /** Rows of the snapshot workload. */
  snapshotRows?: number;
  /** Post the snapshot gzip-compressed (Content-Encoding: gzip), as the Windows scripts do. */
  snapshotGzip?: boolean;
}

function buildNdjsonBody(request: number, records: number): string {
  const lines: string[] = [];
  for (let i = 0; i < records; i++) lines.push(JSON.stringify(buildClientStoreEvent(request * records + i, `BENCH${request % 4}`)));
  return `${lines.join('\n')}\n`;
}

async function postAll(
  url: string,
  bodies: ReadonlyArray<{ body: string | Buffer; headers: Record<string, string> }>,
  concurrency: number,
): Promise<{ accepted: number; elapsedMs: number; bytes: number }> {
  let next = 0;
  let accepted = 0;
  let bytes = 0;
  const started = performance.now();
  async function worker(): Promise<void> {
    for (;;) {
      const index = next++;
      const item = bodies[index];
      if (item === undefined) return;
      bytes += typeof item.body === 'string' ? Buffer.byteLength(item.body) : item.body.length;
      const response = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, ...item.headers }, body: item.body });
      const json = (await response.json()) as { accepted?: number };
      if (response.status !== 202) throw new Error(`status ${response.status}: ${JSON.stringify(json)}`);
      accepted += json.accepted ?? 0;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return { accepted, elapsedMs: performance.now() - started, bytes };
}

export async function runIngestHttpBench(options: IngestHttpBenchOptions = {}): Promise<IngestHttpResult[]> {
  const requests = options.requests ?? 40;
  const recordsPerRequest = options.recordsPerRequest ?? 2_500;
  const concurrency = options.concurrency ?? 4;
  const snapshotRows = options.snapshotRows ?? 20_000;
  const prefix = `bench-ingest-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.`;
  const env = {
    KAFKA_BROKERS: (await benchBrokers()).join(','),
    CALWATCH_TOPIC_PREFIX: prefix,
    COLLECTOR_TOKENS: TOKEN,
    COLLECTOR_HOST: '127.0.0.1',
    COLLECTOR_PORT: '0',
    LOG_LEVEL: 'warn',
    COLLECTOR_MAX_IN_FLIGHT_REQUESTS: String(concurrency * 2),
  };
  const config = loadCollectorConfig(env);
  const logger = createSilentLogger();
  const kafka: KafkaClient = createKafkaClient({ connection: { brokers: config.kafka.brokers, clientId: 'calwatch-bench', ssl: false }, logger });
  const topics = buildTopicNames(prefix);
  await ensureCalwatchTopics(kafka, topics, { partitions: PARTITIONS, retentionMs: 3_600_000, deadLetterRetentionMs: 3_600_000 });
  const services: CollectorService[] = [];
  const start = async (): Promise<{ service: CollectorService; base: string; startMs: number }> => {
    const began = performance.now();
    const service = createCollectorService({ config, logger, kafka, defaultMetrics: false });
    services.push(service);
    await service.start();
    return { service, base: `http://127.0.0.1:${service.address()!.port}`, startMs: performance.now() - began };
  };
  const results: IngestHttpResult[] = [];
  const common = { partitions: PARTITIONS, cpus: cpus().length };
  try {
    const { service, base } = await start();
    const ndjson = Array.from({ length: requests }, (_, r) => buildNdjsonBody(r, recordsPerRequest));

    // Warm-up: connections, JIT, topic metadata.
    await postAll(`${base}/v1/events`, [{ body: ndjson[0]!, headers: { 'content-type': 'application/x-ndjson' } }], 1);

    const rssBefore = process.memoryUsage().rss;
    const plain = await postAll(
      `${base}/v1/events`,
      ndjson.map((body) => ({ body, headers: { 'content-type': 'application/x-ndjson' } })),
      concurrency,
    );
    results.push({
      name: 'events-ndjson',
      metrics: {
        ...common,
        concurrency,
        requests,
        records: plain.accepted,
        bodyBytes: plain.bytes,
        elapsedMs: Math.round(plain.elapsedMs),
        recordsPerSecond: Math.round(plain.accepted / (plain.elapsedMs / 1000)),
        megabytesPerSecond: Number((plain.bytes / 1e6 / (plain.elapsedMs / 1000)).toFixed(2)),
        rssGrowthBytes: process.memoryUsage().rss - rssBefore,
      },
      notes: 'canonical client.store events, 202 = acknowledged by Kafka (acks=all, idempotent, gzip)',
    });

    const gzipped = ndjson.map((body) => gzipSync(body));
    const gz = await postAll(
      `${base}/v1/events`,
      gzipped.map((body) => ({ body, headers: { 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' } })),
      concurrency,
    );
    results.push({
      name: 'events-ndjson-gzip',
      metrics: {
        ...common,
        concurrency,
        requests,
        records: gz.accepted,
        bodyBytes: gz.bytes,
        elapsedMs: Math.round(gz.elapsedMs),
        recordsPerSecond: Math.round(gz.accepted / (gz.elapsedMs / 1000)),
      },
      notes: 'same events sent again with Content-Encoding: gzip (same event ids)',
    });

    const rows = Array.from({ length: snapshotRows }, (_, i) => buildIssuedLicenseRow(i + 1));
    const csv = buildIssuedLicensesCsv('BENCHLS', rows);
    const snapshotHeaders: Record<string, string> = { 'content-type': 'text/csv', 'x-calwatch-snapshot-time': '2024-06-01T00:00:00Z' };
    if (options.snapshotGzip === true) snapshotHeaders['content-encoding'] = 'gzip';
    const snapshot = await postAll(
      `${base}/v1/snapshots/issued-licenses`,
      [{ body: options.snapshotGzip === true ? gzipSync(csv) : csv, headers: snapshotHeaders }],
      1,
    );
    results.push({
      name: 'snapshot-issued-licenses',
      metrics: {
        ...common,
        rows: snapshot.accepted,
        bodyBytes: snapshot.bytes,
        elapsedMs: Math.round(snapshot.elapsedMs),
        rowsPerSecond: Math.round(snapshot.accepted / (snapshot.elapsedMs / 1000)),
      },
      notes: `first snapshot of a server${options.snapshotGzip === true ? ', posted gzip-compressed' : ''}: parse CSV, diff, publish one license.issued per row, then write the state entries`,
    });
    await service.stop();

    const restarted = await start();
    results.push({
      name: 'restart-restore',
      metrics: { ...common, licensesInState: snapshotRows, startMs: Math.round(restarted.startMs) },
      notes: 'start of a new collector instance, including reading the snapshot-state topic to its end',
    });
    await restarted.service.stop();
  } finally {
    for (const service of services) await service.stop().catch(() => undefined);
    await deleteTopicsWithPrefix(kafka, prefix);
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await runIngestHttpBench();
  await writeBenchResults('ingest-http', results);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}
