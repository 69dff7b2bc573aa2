/**
 * Shared by the processor integration tests: a topic namespace per test, publishing
 * canonical events as the collector does, the reference findings of the in-process
 * pipeline, a findings reader, and the processor as a child process (so SIGKILL is real).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Consumer, type IncomingRecord, type KafkaClient, ensureCalwatchTopics } from '@calwatch/kafka';
import { type CanonicalEvent, Finding, type TopicNames, buildTopicNames, kafkaKeyOf } from '@calwatch/model';
import { createPipeline, parseCoreConfig } from '@calwatch/processor';
import { createTimelineKit } from '@calwatch/processor/testing';
import { deleteTopicsWithPrefix } from '../harness/cleanup';
import { buildTestEnv, uniqueName } from '../harness/services';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Namespace {
  prefix: string;
  topics: TopicNames;
  partitions: number;
  /** The env a processor of this namespace runs with (connection + prefix + quick timings). */
  env(overrides?: Record<string, string>): Record<string, string>;
  remove(): Promise<void>;
}

export async function createNamespace(kafka: KafkaClient, partitions: number, name = 'proc'): Promise<Namespace> {
  const prefix = `${uniqueName(name)}.`;
  const topics = buildTopicNames(prefix);
  await ensureCalwatchTopics(kafka, topics, { partitions, retentionMs: 3_600_000, deadLetterRetentionMs: 3_600_000 });
  return {
    prefix,
    topics,
    partitions,
    env: (overrides = {}) =>
      buildTestEnv(
        {
          CALWATCH_TOPIC_PREFIX: prefix,
          PROCESSOR_GROUP_ID: `${prefix}processor`,
          PROCESSOR_SESSION_TIMEOUT_MS: '6000',
          PROCESSOR_HEARTBEAT_INTERVAL_MS: '1000',
          PROCESSOR_PUNCTUATE_INTERVAL_MS: '200',
          PROCESSOR_IDLE_AFTER_MS: '700',
          PROCESSOR_SHUTDOWN_GRACE_MS: '10000',
          LOG_LEVEL: 'info',
          ...overrides,
        },
        prefix.slice(0, -1),
      ),
    remove: () => deleteTopicsWithPrefix(kafka, prefix),
  };
}

/** Publishes events keyed as the collector keys them; `partition` pins one. */
export async function publish(kafka: KafkaClient, topics: TopicNames, events: readonly CanonicalEvent[], partition?: number): Promise<void> {
  const producer = await kafka.createProducer();
  try {
    for (let i = 0; i < events.length; i += 500) {
      await producer.send(
        events.slice(i, i + 500).map((event) => ({
          topic: topics.events,
          key: kafkaKeyOf(event),
          value: JSON.stringify(event),
          ...(partition === undefined ? {} : { partition }),
        })),
      );
    }
  } finally {
    await producer.close();
  }
}

export const byTime = (events: readonly CanonicalEvent[]) =>
  [...events].sort((a, b) => a.eventTime.localeCompare(b.eventTime) || a.eventId.localeCompare(b.eventId));

/**
 * Event time is per events partition, as in Kafka Streams: a partition's timers fire up
 * to its own newest event. One device per partition seen at the very end brings
 * every partition to the newest time, where the reference (one global time) is.
 */
export function closingEvents(partitions: number, atMs: number): Array<{ event: CanonicalEvent; partition: number }> {
  const kit = createTimelineKit({ server: 'LS-CLOSE', start: new Date(atMs).toISOString() });
  return Array.from({ length: partitions }, (_, p) => ({ event: kit.issue(90_000 + p, { hwid: `ffee${p}`, computer: `PC-CLOSE-${p}`, day: 0 }), partition: p }));
}

export async function publishClosing(kafka: KafkaClient, topics: TopicNames, closing: ReadonlyArray<{ event: CanonicalEvent; partition: number }>): Promise<void> {
  for (const { event, partition } of closing) await publish(kafka, topics, [event], partition);
}

/** What the in-process pipeline (analyze's core) finds for these events, advanced to the newest. */
export function referenceFindings(events: readonly CanonicalEvent[]): Map<string, Finding> {
  const pipeline = createPipeline(parseCoreConfig({}));
  for (const event of byTime(events)) {
    const outcome = pipeline.apply(event);
    if (outcome.status !== 'accepted') throw new Error(`reference refused ${event.eventId}`);
  }
  pipeline.advanceTo(events.reduce((newest, e) => Math.max(newest, Date.parse(e.eventTime)), 0));
  return new Map(pipeline.findings().map((f) => [f.id, f]));
}

/** The fields the comparison is about. */
export function verdicts(findings: ReadonlyMap<string, Finding>) {
  return Object.fromEntries(
    [...findings]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([id, f]) => [
        id,
        {
          kind: f.kind,
          state: f.state,
          status: f.status ?? null,
          hwidCount: f.hwidCount,
          hwids: f.hwids,
          computerCount: f.computerCount,
          computers: f.computers,
          licenseCount: f.licenseCount,
          licenseIds: f.licenseIds,
          leakedCals: f.leakedCals,
          reclaimableLicenseIds: f.reclaimableLicenseIds,
        },
      ]),
  );
}

/** Reads a topic from the start with a throw-away group, keeping every record. */
export async function collect(kafka: KafkaClient, topic: string): Promise<{ records: IncomingRecord[]; stop(): Promise<void> }> {
  const records: IncomingRecord[] = [];
  const consumer: Consumer = kafka.createConsumer({ groupId: uniqueName('reader'), maxWaitTimeMs: 100 });
  await consumer.start({
    topics: [topic],
    fromBeginning: true,
    eachBatch: async (batch) => {
      records.push(...batch);
    },
  });
  return { records, stop: () => consumer.stop() };
}

/** The newest revision per finding id, and every (id, revision) seen with two different contents. */
export function readFindings(records: readonly IncomingRecord[]): { latest: Map<string, Finding>; conflicts: string[] } {
  const latest = new Map<string, Finding>();
  const seen = new Map<string, string>();
  const conflicts: string[] = [];
  for (const record of records) {
    const text = record.value!.toString('utf8');
    const finding = Finding.parse(JSON.parse(text));
    const key = `${finding.id}#${finding.revision}`;
    const before = seen.get(key);
    if (before !== undefined && before !== text) conflicts.push(key);
    seen.set(key, text);
    const current = latest.get(finding.id);
    if (current === undefined || finding.revision >= current.revision) latest.set(finding.id, finding);
  }
  return { latest, conflicts };
}


export interface ProcessorProcess {
  readonly child: ChildProcess;
  /** Every JSON log line so far. */
  logs(): Array<Record<string, unknown>>;
  output(): string;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** `calwatch processor` as a child process, run from source like bin/calwatch does. */
export function startProcessorProcess(env: Record<string, string>): ProcessorProcess {
  const child = spawn(
    process.execPath,
    ['--import', join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs'), join(repoRoot, 'services', 'cli', 'src', 'main.ts'), 'processor'],
    { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => text,
    logs: () =>
      text
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

