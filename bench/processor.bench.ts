/**
 * The processor on a real broker: end-to-end throughput (events published before the
 * start, until the findings on the topic are those of the in-process pipeline), next to
 * a raw read of the same events topic through the shared consumer and to the in-process
 * pipeline on the same events; then the state restore rate of a fresh instance that
 * takes over every partition from the changelogs.
 *
 *   npm run bench -- processor
 *   node --import tsx bench/processor.bench.ts        (writes bench/results/processor.json)
 *
 * The broker comes from KAFKA_BROKERS or the local stack (`calwatch stack up`). Topics get
 * a unique prefix and are deleted afterwards.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type IncomingRecord, type KafkaClient, createKafkaClient, ensureCalwatchTopics } from '@calwatch/kafka';
import { type CanonicalEvent, Finding, buildTopicNames, kafkaKeyOf } from '@calwatch/model';
import { createLogger, createSilentLogger } from '@calwatch/runtime';
import { simulateFleet } from '@calwatch/simulator';
import { createPipeline, createProcessorService, loadProcessorConfig, parseCoreConfig } from '@calwatch/processor';
import { createTimelineKit } from '@calwatch/processor/testing';
import { deleteTopicsWithPrefix } from '../test/harness/cleanup';
import { runConsumerPerformance } from './broker-perf';
import { machineBusyCpuSeconds, processCpuSeconds } from './cpu-accounting';
import { benchBrokers, benchKafkaClientSettings } from './brokers';
import { writeBenchResults } from './results-file';

interface ProcessorBenchResult {
  name: string;
  metrics: Record<string, number | string>;
  notes?: string;
}

export interface ProcessorBenchOptions {
  /** License servers, each with its own simulated fleet (spreads the by-server stage). */
  servers?: number;
  devicesPerServer?: number;
  days?: number;
  partitions?: number;
  /**
   * Also run the workload through this many `calwatch processor` processes in one consumer
   * group, on fresh topics (0, the default: not run). The scale benchmark runs one per core.
   */
  processes?: number;
}

function workload(servers: number, devices: number, days: number): CanonicalEvent[] {
  const events: CanonicalEvent[] = [];
  for (let s = 0; s < servers; s++) {
    for (const event of simulateFleet({ devices, days, seed: 100 + s, licenseServer: `LS${String(s + 1).padStart(2, '0')}` }).events()) events.push(event);
  }
  return events.sort((a, b) => a.eventTime.localeCompare(b.eventTime) || a.eventId.localeCompare(b.eventId));
}

/**
 * The workload as the records published: key, JSON value and (for the closing events) a
 * partition. Once the reference is computed the benchmark holds only these: as event objects
 * (several objects and strings each, 322,000 events) they made every collection in the
 * benchmark's own process, where one measurement restores a processor, mark them again.
 */
interface EncodedEvent {
  key: string;
  value: string;
  partition?: number;
}

function encoded(event: CanonicalEvent, partition?: number): EncodedEvent {
  return { key: kafkaKeyOf(event), value: JSON.stringify(event), ...(partition === undefined ? {} : { partition }) };
}

/** Per-partition event time: one device per partition at the very end (see docs/processor-runtime.md). */
function closing(partitions: number, atMs: number): Array<{ event: CanonicalEvent; partition: number }> {
  const kit = createTimelineKit({ server: 'LS-CLOSE', start: new Date(atMs).toISOString() });
  return Array.from({ length: partitions }, (_, p) => ({ event: kit.issue(900_000 + p, { hwid: `ffee${p}`, computer: `PC-CLOSE-${p}`, day: 0 }), partition: p }));
}

/** What the benchmark compares of a finding with the pipeline's. */
function verdictOf(f: Finding): string {
  return JSON.stringify([f.id, f.kind, f.state, f.hwids, f.computers, f.licenseIds, f.leakedCals, f.reclaimableLicenseIds]);
}

/** The pipeline's verdict per finding id: what the findings topic must come to. */
function verdictsOf(findings: Iterable<Finding>): Map<string, string> {
  return new Map([...findings].map((f) => [f.id, verdictOf(f)]));
}

/**
 * The newest revision per finding id as records arrive, and how many of them already match
 * the expected verdicts. Each record updates the count, so the wait's polls (every 50 ms)
 * cost nothing: comparing every finding on every poll took CPU from the processes measured.
 */
function createLatest(expected: ReadonlyMap<string, string>): { add(records: readonly IncomingRecord[]): void; matches(): boolean } {
  const latest = new Map<string, { revision: number; verdict: string }>();
  let matching = 0;
  return {
    add(records) {
      for (const r of records) {
        const f = Finding.parse(JSON.parse(r.value!.toString('utf8')));
        const current = latest.get(f.id);
        if (current !== undefined && f.revision < current.revision) continue;
        const want = expected.get(f.id);
        if (current !== undefined && current.verdict === want) matching--;
        const verdict = verdictOf(f);
        latest.set(f.id, { revision: f.revision, verdict });
        if (verdict === want) matching++;
      }
    },
    matches() {
      return matching === expected.size && latest.size === expected.size;
    },
  };
}

/** Writes the workload to the events topic (the closing events to their own partitions); returns the time taken. */
async function publish(kafka: KafkaClient, topic: string, events: readonly EncodedEvent[], ends: readonly EncodedEvent[]): Promise<number> {
  const producer = await kafka.createProducer();
  const started = performance.now();
  for (let i = 0; i < events.length; i += 1_000) {
    await producer.send(events.slice(i, i + 1_000).map((e) => ({ topic, ...e })));
  }
  await producer.send(ends.map((e) => ({ topic, ...e })));
  const ms = performance.now() - started;
  await producer.close();
  return ms;
}

/** The processor's environment for one run (PROCESSOR_* in the bench's environment win, to compare tunings). */
async function processorEnv(prefix: string): Promise<Record<string, string | undefined>> {
  return {
    KAFKA_BROKERS: (await benchBrokers()).join(','),
    CALWATCH_TOPIC_PREFIX: prefix,
    PROCESSOR_GROUP_ID: `${prefix}processor`,
    PROCESSOR_IDLE_AFTER_MS: '500',
    PROCESSOR_PUNCTUATE_INTERVAL_MS: '100',
    PROCESSOR_SESSION_TIMEOUT_MS: '10000',
    PROCESSOR_HEARTBEAT_INTERVAL_MS: '1000',
    LOG_LEVEL: 'silent',
    KAFKA_CLIENT: benchKafkaClientSettings().client,
    KAFKA_COMPRESSION: benchKafkaClientSettings().compression,
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith('PROCESSOR_'))),
  };
}

/** A processor that stopped on an error fails the benchmark at once instead of timing out. */
let fatal: Error | undefined;
const onFatal = (error: Error) => {
  fatal = error;
};
/** Warnings and errors of the services under test go to stderr. */
const serviceLogger = createLogger({ service: 'bench', version: 'bench', level: 'warn', destination: process.stderr });

async function waitUntil(probe: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const started = Date.now();
  while (!(await probe())) {
    if (fatal !== undefined) throw new Error(`the processor stopped while waiting for ${what}: ${fatal.message}`);
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function lagOf(kafka: KafkaClient, groupId: string, topics: readonly string[]): Promise<number> {
  const admin = await kafka.createAdmin();
  try {
    let lag = 0;
    for (const topic of topics) {
      const ends = await admin.endOffsets(topic);
      const done = await admin.committedOffsets(groupId, topic);
      for (const e of ends) lag += Number(e.offset) - Math.max(0, Number(done.find((d) => d.partition === e.partition)?.offset ?? 0));
    }
    return lag;
  } finally {
    await admin.close();
  }
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

const CALWATCH_BIN = fileURLToPath(new URL('../services/cli/bin/calwatch', import.meta.url));

/**
 * A processor restarted after the processes stopped: one new `calwatch processor` process
 * takes every partition over and restores their state from the changelogs. Timed from its
 * spawn (process start and group join included) until its `state restored` lines cover every
 * partition; the read itself is what those lines report.
 */
async function runRestartedProcess(env: Record<string, string | undefined>, partitions: number, children: ChildProcess[]): Promise<ProcessorBenchResult> {
  const started = performance.now();
  const child = spawn(CALWATCH_BIN, ['processor'], { env: { ...env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 2] });
  children.push(child);
  let restoredPartitions = 0;
  let records = 0;
  let readMs = 0;
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      exited = code;
      resolve(code);
    }),
  );
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let entry: { msg?: string; partitions?: number[]; records?: number; ms?: number };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      return;
    }
    if (entry.msg !== 'state restored') return;
    restoredPartitions += entry.partitions?.length ?? 0;
    records += entry.records ?? 0;
    readMs = Math.max(readMs, entry.ms ?? 0);
  });
  await waitUntil(
    () => {
      if (exited !== undefined) throw new Error(`the restarted calwatch processor exited with ${exited} before it restored`);
      return restoredPartitions >= partitions;
    },
    300_000,
    'the restarted process to restore every partition',
  );
  const readyMs = performance.now() - started;
  const cpuSeconds = processCpuSeconds(child.pid);
  child.kill('SIGTERM');
  const code = await exit;
  if (code !== 0) throw new Error(`the restarted calwatch processor exited with ${code} on SIGTERM`);
  return {
    name: 'state restore in a restarted processor process',
    metrics: {
      partitions,
      changelogRecords: records,
      readyMs: Math.round(readyMs),
      readMs,
      recordsPerSecond: Math.round(records / (Math.max(1, readMs) / 1000)),
      ...(cpuSeconds === null ? {} : { cpuSecondsAtReady: round2(cpuSeconds) }),
    },
    notes:
      'A new `calwatch processor` process after the processes above stopped: readyMs from its spawn (process start and group join included) until its `state restored` lines cover every partition; readMs is the changelog read and state rebuild those lines report; cpuSecondsAtReady is the CPU the process had used by then, start-up included.',
  };
}

/**
 * The workload through `count` separate `calwatch processor` processes sharing one group
 * (how an estate spreads partitions over cores and machines), on topics of its own: from
 * their start (process start and group join included) until the findings on the topic are
 * the pipeline's. A process that exits before it is stopped fails the run.
 */
async function runProcesses(
  kafka: KafkaClient,
  count: number,
  events: readonly EncodedEvent[],
  ends: readonly EncodedEvent[],
  partitions: number,
  expected: ReadonlyMap<string, string>,
): Promise<ProcessorBenchResult[]> {
  const prefix = `bench-processes-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.`;
  const topics = buildTopicNames(prefix);
  await ensureCalwatchTopics(kafka, topics, { partitions, retentionMs: 3_600_000, deadLetterRetentionMs: 3_600_000 });
  const children: ChildProcess[] = [];
  let stopping = false;
  const reader = kafka.createConsumer({ groupId: `${prefix}findings`, maxWaitTimeMs: 100 });
  try {
    await publish(kafka, topics.events, events, ends);
    const findings = createLatest(expected);
    await reader.start({ topics: [topics.findings], fromBeginning: true, eachBatch: async (records) => findings.add(records) });
    const processor = await processorEnv(prefix);
    const groupId = processor['PROCESSOR_GROUP_ID']!;
    const env = { ...process.env, ...processor, LOG_LEVEL: 'error', PROCESSOR_METRICS_PORT: '0' };
    const exits: Array<Promise<number | null>> = [];
    const busyAtStart = machineBusyCpuSeconds();
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      // Its log lines (errors only) go to the bench's stderr; stdout carries the results.
      const child = spawn(CALWATCH_BIN, ['processor'], { env, stdio: ['ignore', 2, 2] });
      children.push(child);
      exits.push(
        new Promise((resolve) =>
          child.on('exit', (code) => {
            if (!stopping) fatal ??= new Error(`calwatch processor ${i + 1} of ${count} exited with ${code} before it was stopped`);
            resolve(code);
          }),
        ),
      );
    }
    await waitUntil(() => findings.matches(), 600_000, `the findings of the pipeline from ${count} processes`);
    const endToEndMs = performance.now() - started;
    const busyAtEnd = machineBusyCpuSeconds();
    const processCpu = children.map((child) => processCpuSeconds(child.pid));
    await waitUntil(async () => (await lagOf(kafka, groupId, [topics.events])) === 0, 60_000, 'no lag');
    stopping = true;
    for (const child of children) child.kill('SIGTERM');
    const codes = await Promise.all(exits);
    if (codes.some((code) => code !== 0)) throw new Error(`calwatch processor exit codes on SIGTERM: ${codes.join(', ')}`);
    const all = events.length + ends.length;
    const restart = await runRestartedProcess(env, partitions, children);
    const cpu: Record<string, number> = {};
    if (processCpu.every((s): s is number => s !== null)) {
      const seconds = processCpu.reduce((sum, s) => sum + s, 0);
      cpu['processorCpuSeconds'] = round2(seconds);
      cpu['processorCpuMicrosPerEvent'] = Math.round((seconds * 1e6) / all);
    }
    if (busyAtStart !== null && busyAtEnd !== null) {
      cpu['machineBusyCpuSeconds'] = round2(busyAtEnd - busyAtStart);
      cpu['machineBusyShare'] = round2((busyAtEnd - busyAtStart) / (cpus().length * (endToEndMs / 1000)));
    }
    return [
      {
        name: 'processor end to end, one process per core',
        metrics: { events: all, partitions, processes: count, endToEndMs: Math.round(endToEndMs), eventsPerSecond: Math.round(all / (endToEndMs / 1000)), ...cpu },
        notes: `${count} \`calwatch processor\` processes in one consumer group on this machine (the broker shares its cores); from their start (process start and group join included) until the latest revision per finding equals the pipeline. processorCpuMicrosPerEvent: the processes' CPU (user + system, start-up included) per event, which other work on the machine moves less than wall time (a slow spell of the machine still shows in it); machineBusyShare: how much of both cores anything used meanwhile (the broker, the bench reading the findings).`,
      },
      restart,
    ];
  } finally {
    stopping = true;
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await reader.stop();
    await deleteTopicsWithPrefix(kafka, prefix);
  }
}

/**
 * The workload encoded, and the reference: the in-process pipeline's verdicts on the same
 * events, with the time it took (what the core alone does with them). The event objects and
 * the pipeline are not kept.
 */
function prepare(servers: number, devices: number, days: number, partitions: number) {
  const objects = workload(servers, devices, days);
  const closingEvents = closing(partitions, Date.parse(objects.at(-1)!.eventTime));
  const pipelineStarted = performance.now();
  const pipeline = createPipeline(parseCoreConfig({}));
  for (const event of objects) pipeline.apply(event);
  for (const { event } of closingEvents) pipeline.apply(event);
  let newest = 0;
  for (const e of objects) newest = Math.max(newest, Date.parse(e.eventTime));
  for (const { event } of closingEvents) newest = Math.max(newest, Date.parse(event.eventTime));
  pipeline.advanceTo(newest);
  const pipelineMs = performance.now() - pipelineStarted;
  return {
    events: objects.map((e) => encoded(e)),
    ends: closingEvents.map(({ event, partition }) => encoded(event, partition)),
    pipelineMs,
    expected: verdictsOf(pipeline.findings()),
  };
}

export async function runProcessorBench(options: ProcessorBenchOptions = {}): Promise<ProcessorBenchResult[]> {
  const servers = options.servers ?? 3;
  const devices = options.devicesPerServer ?? 1_000;
  const days = options.days ?? 30;
  const partitions = options.partitions ?? 6;
  const kafka = createKafkaClient({ connection: { brokers: await benchBrokers(), clientId: 'calwatch-bench', ssl: false, ...benchKafkaClientSettings() }, logger: createSilentLogger() });
  const prefix = `bench-processor-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.`;
  const topics = buildTopicNames(prefix);
  const results: ProcessorBenchResult[] = [];

  const { events, ends, pipelineMs, expected } = prepare(servers, devices, days, partitions);
  const total = events.length + ends.length;
  const bytesOf = (records: readonly EncodedEvent[]) => records.reduce((sum, e) => sum + Buffer.byteLength(e.value), 0);
  const bytes = bytesOf(events) + bytesOf(ends);

  await ensureCalwatchTopics(kafka, topics, { partitions, retentionMs: 3_600_000, deadLetterRetentionMs: 3_600_000 });
  try {
    const publishMs = await publish(kafka, topics.events, events, ends);

    // Raw consume of the same topic through the shared consumer: the ceiling of reading.
    let seen = 0;
    const raw = kafka.createConsumer({ groupId: `${prefix}raw`, maxWaitTimeMs: 100 });
    const rawStarted = performance.now();
    await raw.start({
      topics: [topics.events],
      fromBeginning: true,
      eachBatch: async (records) => {
        for (const r of records) if (r.value !== null) JSON.parse(r.value.toString('utf8'));
        seen += records.length;
      },
    });
    await waitUntil(() => seen >= total, 120_000, 'the raw read');
    const rawMs = performance.now() - rawStarted;
    await raw.stop();
    // The broker's own consumer on the same topic: the ceiling of reading it at all.
    const brokerPerf = await runConsumerPerformance({ brokers: await benchBrokers(), topic: topics.events, records: total });

    // End to end: from start to the pipeline's findings on the findings topic.
    const findings = createLatest(expected);
    const reader = kafka.createConsumer({ groupId: `${prefix}findings`, maxWaitTimeMs: 100 });
    await reader.start({ topics: [topics.findings], fromBeginning: true, eachBatch: async (records) => findings.add(records) });
    const env = await processorEnv(prefix);
    const config = loadProcessorConfig(env);
    const first = createProcessorService({ config, detection: parseCoreConfig({}), logger: serviceLogger, kafka, onFatal });
    const started = performance.now();
    await first.start();
    await waitUntil(() => findings.matches(), 600_000, 'the findings of the pipeline');
    const endToEndMs = performance.now() - started;
    // Drained: every event enriched (the last ones leave at the idle flush) and nothing left to read.
    await waitUntil(() => first.stats().enrichedOut >= total, 60_000, 'an enriched event per event');
    await waitUntil(async () => (await lagOf(kafka, config.groupId, [topics.events])) === 0, 60_000, 'no lag');
    const stats = first.stats();
    await first.stop();
    await reader.stop();

    results.push({
      name: 'processor end to end',
      metrics: {
        events: total,
        eventBytes: bytes,
        partitions,
        licenseServers: servers,
        endToEndMs: Math.round(endToEndMs),
        eventsPerSecond: Math.round(total / (endToEndMs / 1000)),
        batches: stats.batches,
        producerSends: stats.sends,
        changelogRecords: stats.changelogRecords,
        offsetCommits: stats.commits,
        findingUpdates: stats.findingsOut,
        enrichedEvents: stats.enrichedOut,
        idleAfterMs: Number(env.PROCESSOR_IDLE_AFTER_MS),
      },
      notes: 'From service start (group join and empty restore included) until the latest revision per finding equals the pipeline; the idle flush at the end waits PROCESSOR_IDLE_AFTER_MS.',
    });
    results.push({
      name: 'raw consume of the events topic (shared consumer, JSON.parse only)',
      metrics: { events: total, ms: Math.round(rawMs), eventsPerSecond: Math.round(total / (rawMs / 1000)), mibPerSecond: Number((bytes / 1_048_576 / (rawMs / 1000)).toFixed(2)) },
    });
    results.push({
      name: "the broker's ConsumerPerformance on the same topic",
      metrics: { events: brokerPerf.records, eventsPerSecond: Math.round(brokerPerf.recordsPerSecond), mibPerSecond: Number(brokerPerf.mibPerSecond.toFixed(2)) },
    });
    results.push({
      name: 'in-process pipeline on the same events (no Kafka)',
      metrics: { events: total, ms: Math.round(pipelineMs), eventsPerSecond: Math.round(total / (pipelineMs / 1000)) },
    });
    results.push({ name: `publish of the events (idempotent producer, acks=all, ${benchKafkaClientSettings().client}, ${benchKafkaClientSettings().compression})`, metrics: { ms: Math.round(publishMs), eventsPerSecond: Math.round(total / (publishMs / 1000)) } });

    // Restore: a fresh instance takes every partition over from the changelogs.
    const second = createProcessorService({ config, detection: parseCoreConfig({}), logger: serviceLogger, kafka, onFatal });
    const restoreStarted = performance.now();
    await second.start();
    await waitUntil(() => second.stats().restoredTasks >= partitions, 300_000, 'the restore');
    const restoreMs = performance.now() - restoreStarted;
    const restored = second.stats();
    const keys = second.tasks().reduce((sum, t) => sum + Object.values((t.keys ?? {}) as Record<string, number>).reduce((a, b) => a + b, 0), 0);
    await second.stop();
    results.push({
      name: 'state restore from the changelogs',
      metrics: {
        tasks: restored.restoredTasks,
        changelogRecords: restored.restoredRecords,
        keys,
        readyMs: Math.round(restoreMs),
        readMs: Math.round(restored.restoreMs),
        recordsPerSecond: Math.round(restored.restoredRecords / (Math.max(1, restored.restoreMs) / 1000)),
      },
      notes:
        'readyMs: from service start (group join included) until every task is restored; readMs: the wall time of reading the changelogs back and rebuilding the state (the three changelogs are read at once and their read counts once). Changelogs are not compacted yet, so every write is read back.',
    });
  } finally {
    await deleteTopicsWithPrefix(kafka, prefix);
  }
  const processes = options.processes ?? 0;
  if (processes > 0) for (const result of await runProcesses(kafka, processes, events, ends, partitions, expected)) results.push(result);
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await runProcessorBench();
  await writeBenchResults('processor', results);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}
