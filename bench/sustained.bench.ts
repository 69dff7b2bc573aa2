/**
 * Sustained load on the local stack: canonical events posted to the collector's HTTP API at
 * a steady rate (default 2,000/s for 300 s) through the processor and the indexer, all in
 * this process, with the e2e bench's lateness settings (500 ms allowed lateness, every
 * update emitted, idle release after 300 ms).
 *
 * The traffic is a fixed fleet of devices on a few license servers, in event time order:
 * first every device's license is issued (warm-up, at the same rate, not measured), then
 * renewals and client-store inventories in turn, so the processor's state stays the size
 * of the fleet. Once a second a sample leak rides along (a new cloned image: one HWID
 * issued as PC-A, PC-B, PC-A, as in the e2e bench); its latency runs from the collector's
 * 202 for the request that carried it to its cloned-image finding being found by a search.
 * Every 5 s the consumer lag of the processor and indexer groups and this process's RSS
 * and heap are read; the first third of the run is compared with the last.
 *
 *   npm run bench -- sustained
 *   node --import tsx bench/sustained.bench.ts [eventsPerSecond] [durationSeconds]
 *
 * Topics and indices get a unique prefix and are deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import { createElasticsearchClient } from '@calwatch/elasticsearch';
import { createKafkaClient, ensureCalwatchTopics, type KafkaClient } from '@calwatch/kafka';
import { buildComputer, buildEventId, buildHwid, buildTopicNames, type CanonicalEvent, type Computer, type Hwid } from '@calwatch/model';
import { createSilentLogger, toElasticsearchConnection, type Env } from '@calwatch/runtime';
import { createCollectorService, loadCollectorConfig } from '@calwatch/collector';
import { parseCoreConfig } from '@calwatch/processor';
import { loadIndexerConfig } from '@calwatch/indexer';
import { createPipelineServices, resolveServiceEnv } from '@calwatch/cli';
import { deleteIndexSet, deleteTopicsWithPrefix } from '../test/harness/cleanup';
import { writeBenchResults } from './results-file';

interface BenchResult {
  name: string;
  metrics: Record<string, number | string>;
  notes?: string;
}

export interface SustainedBenchOptions {
  eventsPerSecond?: number;
  durationSeconds?: number;
  /** Devices of the fleet, default 10 s of traffic (their licenses are issued during the warm-up). */
  devices?: number;
  licenseServers?: number;
  sampleIntervalMs?: number;
}

const PARTITIONS = 3;
const ALLOWED_LATENESS_MS = 500;
const IDLE_AFTER_MS = 300;
const TICK_MS = 50;
const OBSERVE_INTERVAL_MS = 5_000;
/** After the last post, how long a sample may still take before it counts as lost. */
const SAMPLE_TIMEOUT_MS = 30_000;
const SAMPLE_POLL_MS = 50;
const P99_TARGET_MS = 1_500;
const DAY_MS = 86_400_000;
const SOURCE = { kind: 'canonical' as const, ref: 'bench-sustained' };

interface Device {
  server: string;
  licenseId: number;
  hwid: Hwid;
  computer: Computer;
  issueDate: string;
  expirationMs: number;
}

interface Observation {
  atMs: number;
  processorLag: number;
  indexerLag: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** CPU time of this process since the previous observation, as a share of one core. */
  cpuPercent: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function buildDevices(count: number, servers: number): Device[] {
  return Array.from({ length: count }, (_, i) => ({
    server: `LS-SUSTAIN-${(i % servers) + 1}`,
    licenseId: 1 + i,
    hwid: buildHwid(`0x00000002, 0x${(0xa0000000 + i).toString(16)}, 0x5ca1ab1e, 0x0000beef, 0x00c0ffee`)!,
    computer: buildComputer(`VDI-${String(i).padStart(6, '0')}`),
    issueDate: '',
    expirationMs: 0,
  }));
}

function envelope(eventId: string, atIso: string, server: string) {
  return { schemaVersion: 1 as const, eventId, eventTime: atIso, observedTime: atIso, source: SOURCE, licenseServer: server };
}

function issued(device: Device, atMs: number): CanonicalEvent {
  const at = new Date(atMs).toISOString();
  device.issueDate = at;
  device.expirationMs = atMs + 60 * DAY_MS;
  return {
    ...envelope(buildEventId('bench-issued', device.server, device.licenseId), at, device.server),
    type: 'license.issued',
    license: { licenseId: device.licenseId, keyPackId: 3, hwid: device.hwid, computer: device.computer, user: null, issueDate: at, expirationDate: new Date(device.expirationMs).toISOString(), status: 'active' },
  };
}

function renewed(device: Device, atMs: number): CanonicalEvent {
  const at = new Date(atMs).toISOString();
  const previous = new Date(device.expirationMs).toISOString();
  device.expirationMs = Math.max(device.expirationMs + 1, atMs + 60 * DAY_MS);
  return {
    ...envelope(buildEventId('bench-renewed', device.server, device.licenseId, atMs), at, device.server),
    type: 'license.renewed',
    license: {
      licenseId: device.licenseId,
      keyPackId: 3,
      hwid: device.hwid,
      computer: device.computer,
      user: null,
      issueDate: device.issueDate,
      expirationDate: new Date(device.expirationMs).toISOString(),
      status: 'active',
    },
    previousExpirationDate: previous,
  };
}

function stored(device: Device, atMs: number): CanonicalEvent {
  const at = new Date(atMs).toISOString();
  return {
    ...envelope(buildEventId('bench-store', device.server, device.computer.norm, atMs), at, device.server),
    type: 'client.store',
    computer: device.computer,
    hwids: [device.hwid],
  };
}

/** A new cloned image: three licenses of one HWID, as PC-A, PC-B, PC-A, 1 ms apart. */
function sampleLeak(sample: number, server: string, atMs: number): { hwid: string; events: CanonicalEvent[] } {
  const hwid = buildHwid(`0x00000002, 0x${(0xb0000000 + sample).toString(16)}, 0x0badf00d, 0x12345678, 0x9abcdef0`)!;
  const events = ['A', 'B', 'A'].map((side, offset): CanonicalEvent => {
    const licenseId = 5_000_000 + sample * 3 + offset;
    const at = new Date(atMs + offset).toISOString();
    return {
      ...envelope(buildEventId('bench-sample', server, licenseId), at, server),
      type: 'license.issued',
      license: {
        licenseId,
        keyPackId: 3,
        hwid,
        computer: buildComputer(`CLONE${sample}-${side}`),
        user: null,
        issueDate: at,
        expirationDate: new Date(atMs + offset + 60 * DAY_MS).toISOString(),
        status: 'active',
      },
    };
  });
  return { hwid: hwid.norm, events };
}

async function lagOf(admin: Awaited<ReturnType<KafkaClient['createAdmin']>>, groupId: string, topics: readonly string[]): Promise<number> {
  let lag = 0;
  for (const topic of topics) {
    const committed = new Map((await admin.committedOffsets(groupId, topic)).map((c) => [c.partition, Number(c.offset)]));
    for (const end of await admin.endOffsets(topic)) lag += Math.max(0, Number(end.offset) - Math.max(0, committed.get(end.partition) ?? 0));
  }
  return lag;
}

/** First and last third of a series by time, for "did it grow". */
function thirds(observations: readonly Observation[], durationMs: number, pick: (o: Observation) => number): { first: number; last: number; max: number } {
  const first = observations.filter((o) => o.atMs < durationMs / 3).map(pick);
  const last = observations.filter((o) => o.atMs >= (2 * durationMs) / 3).map(pick);
  return { first: mean(first), last: mean(last), max: observations.reduce((max, o) => Math.max(max, pick(o)), 0) };
}

export async function runSustainedBench(options: SustainedBenchOptions = {}): Promise<BenchResult[]> {
  const rate = options.eventsPerSecond ?? 2_000;
  const durationMs = (options.durationSeconds ?? 300) * 1_000;
  const deviceCount = options.devices ?? rate * 10;
  const serverCount = options.licenseServers ?? 4;
  const sampleIntervalMs = options.sampleIntervalMs ?? 1_000;
  const env: Env = await resolveServiceEnv(process.env);
  if (env.KAFKA_BROKERS === undefined) throw new Error('no KAFKA_BROKERS and no local stack; run `calwatch stack up`');
  const logger = createSilentLogger();
  const suffix = randomBytes(4).toString('hex');
  const topicPrefix = `bench-sustained-${suffix}.`;
  const indexPrefix = `bench-sustained-${suffix}-`;
  const groupPrefix = `bench-sustained-${suffix}`;
  const kafka = createKafkaClient({ connection: { brokers: env.KAFKA_BROKERS.split(','), clientId: 'calwatch-bench', ssl: false }, logger });
  const topics = buildTopicNames(topicPrefix);
  await ensureCalwatchTopics(kafka, topics, { partitions: PARTITIONS, retentionMs: 3_600_000, deadLetterRetentionMs: 3_600_000 });

  const serviceEnv: Env = {
    ...env,
    CALWATCH_TOPIC_PREFIX: topicPrefix,
    CALWATCH_INDEX_PREFIX: indexPrefix,
    PROCESSOR_IDLE_AFTER_MS: String(IDLE_AFTER_MS),
    PROCESSOR_PUNCTUATE_INTERVAL_MS: '100',
  };
  const token = randomBytes(24).toString('hex');
  const collector = createCollectorService({
    config: loadCollectorConfig({ ...serviceEnv, COLLECTOR_HOST: '127.0.0.1', COLLECTOR_PORT: '0', COLLECTOR_TOKENS: token }),
    logger,
    kafka,
    defaultMetrics: false,
  });
  let fatal: Error | undefined;
  const pipeline = createPipelineServices({
    env: serviceEnv,
    kafka,
    logger,
    topicPrefix,
    indexPrefix,
    groupPrefix,
    detection: parseCoreConfig({ lateness: { allowedLatenessMs: ALLOWED_LATENESS_MS }, emit: { refreshDays: 0 } }),
    suspendRefresh: false,
    onFatal: (error) => (fatal = error),
  });
  const admin = await kafka.createAdmin();
  const devices = buildDevices(deviceCount, serverCount);
  const latencies: number[] = [];
  const observations: Observation[] = [];
  /** Samples posted and not yet found: normalised HWID → when the collector accepted it (monotonic and wall clock). */
  const pending = new Map<string, { at: number; wallMs: number }>();
  /** From the 202 to the indexer building the finding's document (its event.ingested). */
  const toIndexer: number[] = [];
  /** Every sample's 202 (wall clock) and when the processor produced its first finding record (the record's timestamp). */
  const acceptedWallMs = new Map<string, number>();
  const producedMs = new Map<string, number>();
  const findingsReader = kafka.createConsumer({ groupId: `${groupPrefix}-bench-findings`, maxWaitTimeMs: 100 });
  let lostSamples = 0;
  let samplesPosted = 0;
  let measured = { events: 0, elapsedMs: 0, requests: 0, maxRequestMs: 0 };
  try {
    await collector.start();
    await pipeline.start();
    await findingsReader.start({
      topics: [topics.findings],
      fromBeginning: true,
      eachBatch: (records) => {
        for (const record of records) {
          const finding = JSON.parse(record.value?.toString('utf8') ?? 'null') as { kind?: string; hwids?: string[] } | null;
          if (finding?.kind !== 'cloned-image') continue;
          for (const hwid of finding.hwids ?? []) if (!producedMs.has(hwid)) producedMs.set(hwid, Number(record.timestamp));
        }
        return Promise.resolve();
      },
    });
    const url = `http://127.0.0.1:${collector.address()!.port}/v1/events`;
    let lastEventMs = 0;

    async function post(events: readonly CanonicalEvent[]): Promise<number> {
      const began = performance.now();
      const response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
        body: `${events.map((e) => JSON.stringify(e)).join('\n')}\n`,
      });
      if (response.status !== 202) throw new Error(`collector answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
      return performance.now() - began;
    }

    /**
     * Posts `next(atMs)` events at `rate` for `ms`, one request at a time: every 50 ms tick
     * sends what the schedule owes (at most half a second's worth), so a slow answer is
     * caught up by the next tick.
     */
    async function pace(ms: number, next: (atMs: number) => CanonicalEvent | undefined, withSamples: boolean) {
      const began = performance.now();
      let sent = 0;
      let requests = 0;
      let maxRequestMs = 0;
      let nextSampleAt = began + sampleIntervalMs;
      const maxBatch = Math.max(1, Math.ceil(rate / 2));
      let nextTick = began;
      for (;;) {
        if (fatal !== undefined) throw fatal;
        const wait = nextTick - performance.now();
        if (wait > 0) await sleep(wait);
        nextTick += TICK_MS;
        const elapsed = performance.now() - began;
        if (elapsed >= ms) break;
        const due = Math.min(maxBatch, Math.floor((elapsed / 1000) * rate) - sent);
        if (due <= 0) continue;
        // Event time is the wall clock, never backwards; a batch shares one instant.
        const atMs = Math.max(Date.now(), lastEventMs + 1);
        const batch: CanonicalEvent[] = [];
        for (let i = 0; i < due; i++) {
          const event = next(atMs);
          if (event === undefined) break;
          batch.push(event);
        }
        lastEventMs = atMs;
        let sample: string | undefined;
        if (withSamples && performance.now() >= nextSampleAt) {
          const leak = sampleLeak(samplesPosted++, devices[samplesPosted % devices.length]!.server, atMs + 1);
          for (const event of leak.events) batch.push(event);
          lastEventMs = atMs + leak.events.length;
          sample = leak.hwid;
          nextSampleAt += sampleIntervalMs;
        }
        if (batch.length === 0) break;
        const requestMs = await post(batch);
        if (sample !== undefined) {
          pending.set(sample, { at: performance.now(), wallMs: Date.now() });
          acceptedWallMs.set(sample, Date.now());
        }
        requests++;
        maxRequestMs = Math.max(maxRequestMs, requestMs);
        sent += batch.length;
      }
      return { events: sent, elapsedMs: performance.now() - began, requests, maxRequestMs };
    }

    // Warm-up: every device's license, at the target rate, until the fleet is issued.
    let cursor = 0;
    await pace(Number.POSITIVE_INFINITY, (atMs) => (cursor < devices.length ? issued(devices[cursor++]!, atMs) : undefined), false);

    let running = true;
    const runStart = performance.now();
    const observer = (async () => {
      const indexerTopics = [topics.findings, topics.enriched];
      let cpu = process.cpuUsage();
      let cpuAt = performance.now();
      while (running) {
        const atMs = performance.now() - runStart;
        const memory = process.memoryUsage();
        const cpuDelta = process.cpuUsage(cpu);
        const cpuPercent = ((cpuDelta.user + cpuDelta.system) / 1000 / Math.max(1, performance.now() - cpuAt)) * 100;
        cpu = process.cpuUsage();
        cpuAt = performance.now();
        observations.push({
          atMs,
          processorLag: await lagOf(admin, `${groupPrefix}-processor`, [topics.events]),
          indexerLag: await lagOf(admin, `${groupPrefix}-indexer`, indexerTopics),
          rssBytes: memory.rss,
          heapUsedBytes: memory.heapUsed,
          cpuPercent,
        });
        const wait = OBSERVE_INTERVAL_MS * observations.length - (performance.now() - runStart);
        for (let left = wait; running && left > 0; left -= 250) await sleep(Math.min(250, left));
      }
    })();
    let posting = true;
    const watcher = (async () => {
      let deadline = Number.POSITIVE_INFINITY;
      while (posting || pending.size > 0) {
        if (!posting && deadline === Number.POSITIVE_INFINITY) deadline = performance.now() + SAMPLE_TIMEOUT_MS;
        if (performance.now() > deadline) break;
        if (pending.size > 0) {
          const found = await pipeline.elasticsearch.search<{ event?: { ingested?: string }; calwatch?: { finding?: { hwids?: string[] } } }>({
            index: pipeline.indexNames.findingsAlias,
            size: pending.size * 2,
            _source: ['calwatch.finding.hwids', 'event.ingested'],
            query: { bool: { filter: [{ term: { 'calwatch.finding.kind': 'cloned-image' } }, { terms: { 'calwatch.finding.hwids': [...pending.keys()] } }] } },
          });
          const now = performance.now();
          for (const hit of found.hits.hits) {
            for (const hwid of hit._source?.calwatch?.finding?.hwids ?? []) {
              const accepted = pending.get(hwid);
              if (accepted === undefined) continue;
              latencies.push(now - accepted.at);
              const ingested = Date.parse(hit._source?.event?.ingested ?? '');
              if (Number.isFinite(ingested)) toIndexer.push(ingested - accepted.wallMs);
              pending.delete(hwid);
            }
          }
        }
        await sleep(SAMPLE_POLL_MS);
      }
      lostSamples = pending.size;
    })();

    let turn = 0;
    try {
      measured = await pace(
        durationMs,
        (atMs) => {
          const device = devices[turn % devices.length]!;
          // Each pass over the fleet alternates renewals and client-store inventories.
          const event = Math.floor(turn / devices.length) % 2 === 0 ? renewed(device, atMs) : stored(device, atMs);
          turn++;
          return event;
        },
        true,
      );
    } finally {
      posting = false;
      running = false;
      await watcher;
      await observer;
    }
    if (fatal !== undefined) throw fatal;
  } finally {
    await findingsReader.stop().catch(() => undefined);
    await collector.stop().catch(() => undefined);
    await pipeline.stop().catch(() => undefined);
    await admin.close().catch(() => undefined);
    await deleteTopicsWithPrefix(kafka, topicPrefix);
    const indexerConfig = loadIndexerConfig(serviceEnv);
    const cleanup = createElasticsearchClient({ connection: indexerConfig.elasticsearch, requestTimeoutMs: indexerConfig.requestTimeoutMs });
    await deleteIndexSet(cleanup, pipeline.indexNames);
    await cleanup.close().catch(() => undefined);
  }

  const sorted = [...latencies].sort((a, b) => a - b);
  const byIndexer = [...toIndexer].sort((a, b) => a - b);
  const byProcessor = [...acceptedWallMs].flatMap(([hwid, at]) => (producedMs.has(hwid) ? [producedMs.get(hwid)! - at] : [])).sort((a, b) => a - b);
  const achievedRate = measured.events / (measured.elapsedMs / 1000);
  const p99 = percentile(sorted, 99);
  const processorLag = thirds(observations, durationMs, (o) => o.processorLag);
  const indexerLag = thirds(observations, durationMs, (o) => o.indexerLag);
  const rss = thirds(observations, durationMs, (o) => o.rssBytes);
  const heap = thirds(observations, durationMs, (o) => o.heapUsedBytes);
  // "No growth": the backlog of the last third is within one second of traffic of the first's; memory within 20 %.
  const lagHeld = processorLag.last <= processorLag.first + rate && indexerLag.last <= indexerLag.first + rate;
  const memoryHeld = rss.last <= rss.first * 1.2 && heap.last <= heap.first * 1.2;
  const rateHeld = achievedRate >= rate * 0.98;
  const latencyHeld = p99 <= P99_TARGET_MS && lostSamples === 0;
  const mib = (bytes: number) => Math.round(bytes / 1_048_576);
  const run = { targetEventsPerSecond: rate, durationSeconds: durationMs / 1000, devices: deviceCount, licenseServers: serverCount, partitions: PARTITIONS };
  return [
    {
      name: 'sustained: collector accept -> finding searchable',
      metrics: {
        ...run,
        events: measured.events,
        achievedEventsPerSecond: Math.round(achievedRate),
        requests: measured.requests,
        maxRequestMs: Math.round(measured.maxRequestMs),
        samples: samplesPosted,
        samplesFound: sorted.length,
        samplesLost: lostSamples,
        p50Ms: Math.round(percentile(sorted, 50)),
        p95Ms: Math.round(percentile(sorted, 95)),
        p99Ms: Math.round(p99),
        maxMs: Math.round(sorted[sorted.length - 1] ?? Number.NaN),
        toFindingsTopicP50Ms: Math.round(percentile(byProcessor, 50)),
        toFindingsTopicP99Ms: Math.round(percentile(byProcessor, 99)),
        toIndexerP50Ms: Math.round(percentile(byIndexer, 50)),
        toIndexerP99Ms: Math.round(percentile(byIndexer, 99)),
        p99TargetMs: P99_TARGET_MS,
        allowedLatenessMs: ALLOWED_LATENESS_MS,
        processorIdleAfterMs: IDLE_AFTER_MS,
        rateHeld: String(rateHeld),
        latencyHeld: String(latencyHeld),
      },
      notes:
        'One request at a time, each tick posting what the schedule owes; event time is the wall clock. A sample is a cloned image (three license.issued) in the batch of its second; latency from its 202 to its finding found by a search polled every 50 ms (findings index refresh 250 ms); toFindingsTopic: from the 202 to the processor producing the finding (its record timestamp); toIndexer: to the indexer building the document (its event.ingested); the rest is refresh and polling. Warm-up (every license issued) is not measured.',
    },
    {
      name: 'sustained: consumer lag, first vs last third',
      metrics: {
        ...run,
        observations: observations.length,
        processorLagFirstThirdMean: Math.round(processorLag.first),
        processorLagLastThirdMean: Math.round(processorLag.last),
        processorLagMax: processorLag.max,
        indexerLagFirstThirdMean: Math.round(indexerLag.first),
        indexerLagLastThirdMean: Math.round(indexerLag.last),
        indexerLagMax: indexerLag.max,
        processorLagSeries: observations.map((o) => o.processorLag).join(' '),
        indexerLagSeries: observations.map((o) => o.indexerLag).join(' '),
        lagHeld: String(lagHeld),
      },
      notes:
        'Records written but not committed by the group (processor: events topic; indexer: findings and enriched topics), read every 5 s; includes what the commit interval holds back. Held = the last third within one second of traffic of the first.',
    },
    {
      name: 'sustained: process memory and CPU, first vs last third',
      metrics: {
        ...run,
        rssFirstThirdMeanMiB: mib(rss.first),
        rssLastThirdMeanMiB: mib(rss.last),
        rssMaxMiB: mib(rss.max),
        heapUsedFirstThirdMeanMiB: mib(heap.first),
        heapUsedLastThirdMeanMiB: mib(heap.last),
        heapUsedMaxMiB: mib(heap.max),
        rssSeriesMiB: observations.map((o) => mib(o.rssBytes)).join(' '),
        heapUsedSeriesMiB: observations.map((o) => mib(o.heapUsedBytes)).join(' '),
        cpuPercentOfOneCoreMean: Math.round(mean(observations.slice(1).map((o) => o.cpuPercent))),
        cpuPercentOfOneCoreSeries: observations.map((o) => Math.round(o.cpuPercent)).join(' '),
        memoryHeld: String(memoryHeld),
      },
      notes: 'The one process holding the collector, processor, indexer and the load generator, read every 5 s (CPU: share of one core since the previous reading; the machine has the stack on the same cores). Held = last-third means within 20 % of the first.',
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [eventsPerSecond, durationSeconds] = process.argv.slice(2).map((arg) => (arg === '' ? undefined : Number(arg)));
  const results = await runSustainedBench({ eventsPerSecond, durationSeconds });
  await writeBenchResults('sustained', results);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}
