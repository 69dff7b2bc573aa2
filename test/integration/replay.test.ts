/**
 * `calwatch replay` against the real broker and node: a simulated fleet replayed in
 * process (with --process) gives the same findings as the live path (a collector service
 * fed over HTTP, a processor service) and as `calwatch analyze`; an interrupted replay
 * resumes without publishing anything twice.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createElasticsearchClient } from '@calwatch/elasticsearch';
import { createKafkaClient, ensureCalwatchTopics, type IncomingRecord, type KafkaClient } from '@calwatch/kafka';
import { CanonicalEvent, buildTopicNames, type Finding } from '@calwatch/model';
import { createSilentLogger, type Service } from '@calwatch/runtime';
import { parseMix, simulateFleet, writeFleet } from '@calwatch/simulator';
import { createCollectorService, loadCollectorConfig } from '@calwatch/collector';
import { createProcessorService, loadProcessorConfig, parseCoreConfig } from '@calwatch/processor';
import { buildIndexNames } from '@calwatch/indexer';
import { COMMANDS, readLatestFindings, waitUntilDrained, type CommandIo } from '@calwatch/cli';
import { deleteIndexSet, deleteTopicsWithPrefix } from '../harness/cleanup';
import { getTestServices, uniqueName } from '../harness/services';
import { createTextSink } from '../harness/text-sink';
import { readTopicToEnd } from '../harness/topic-reader';
import { waitFor } from '../harness/wait-for';

const PARTITIONS = 3;
const TOKEN = 'replay-test-token-0123456789abcdef';
/** Quick processor timings: a partition idle for 2.5 s releases its buffer. */
const PROCESSOR_ENV = {
  PROCESSOR_SESSION_TIMEOUT_MS: '6000',
  PROCESSOR_HEARTBEAT_INTERVAL_MS: '1000',
  PROCESSOR_PUNCTUATE_INTERVAL_MS: '200',
  PROCESSOR_IDLE_AFTER_MS: '2500',
  PROCESSOR_SHUTDOWN_GRACE_MS: '10000',
  // Other tests and services on this host may hold the default probe port.
  PROCESSOR_METRICS_PORT: '0',
  INDEXER_RETRY_MIN_DELAY_MS: '200',
  INDEXER_RETRY_MAX_DELAY_MS: '2000',
};

let kafka: KafkaClient;
let fleetDir: string;
let stateDir: string;
let inputs: string[];
const namespaces: string[] = [];
const prefixes: string[] = [];
const running: Service[] = [];

async function runCommand(name: string, args: string[], env: Record<string, string>, signal = new AbortController().signal) {
  const stdout = createTextSink();
  const stderr = createTextSink();
  const io: CommandIo = { stdout, stderr, env: { ...getTestServices().env, CALWATCH_REPLAY_DIR: stateDir, LOG_LEVEL: 'info', ...env }, cwd: fleetDir, signal };
  const { command } = await COMMANDS[name]!();
  const code = await command.run(args, io);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** The fields the comparison is about, by finding id. */
function verdicts(findings: Iterable<Pick<Finding, 'id' | 'kind' | 'hwids' | 'computers' | 'licenseIds' | 'leakedCals' | 'reclaimableLicenseIds'> & { state?: string }>) {
  return Object.fromEntries(
    [...findings]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((f) => [
        f.id,
        { kind: f.kind, state: f.state ?? 'open', hwids: f.hwids, computers: f.computers, licenseIds: f.licenseIds, leakedCals: f.leakedCals, reclaimableLicenseIds: f.reclaimableLicenseIds },
      ]),
  );
}

/** Records on a topic by its end offsets; 0 while it does not exist yet. */
async function countRecords(topic: string): Promise<number> {
  const admin = await kafka.createAdmin();
  try {
    if (!(await admin.listTopics()).includes(topic)) return 0;
    return (await admin.endOffsets(topic)).reduce((sum, p) => sum + Number(p.offset), 0);
  } finally {
    await admin.close();
  }
}

function readAll(topic: string): Promise<IncomingRecord[]> {
  return readTopicToEnd(kafka, topic, PARTITIONS);
}

beforeAll(async () => {
  kafka = createKafkaClient({ connection: getTestServices().kafka, logger: createSilentLogger() });
  fleetDir = await mkdtemp(join(tmpdir(), 'calwatch-replay-fleet-'));
  stateDir = await mkdtemp(join(tmpdir(), 'calwatch-replay-state-'));
  // Every leak cause, small enough for CI: three weeks of daily snapshots.
  const simulation = simulateFleet({
    seed: 20240611,
    devices: 60,
    days: 21,
    pool: 45,
    mix: parseMix('cloned=2x3,vdi=5,deleter=2/3,rebuild=3,duplicate=1x2,corrupted=2'),
  });
  await writeFleet(simulation, { outDir: join(fleetDir, 'fleet'), formats: ['ps51-csv', 'winlogbeat'], gzip: true });
  inputs = ['fleet/ps51-csv', 'fleet/winlogbeat', 'fleet/client-stores'];
}, 120_000);

afterAll(async () => {
  for (const service of running.reverse()) await service.stop().catch(() => undefined);
  await deleteTopicsWithPrefix(kafka, ...prefixes, ...namespaces.map((n) => `calwatch.replay.${n}.`));
  const client = createElasticsearchClient({ connection: getTestServices().elasticsearch });
  try {
    for (const n of namespaces) await deleteIndexSet(client, buildIndexNames(`calwatch-replay-${n}-`));
  } finally {
    await client.close();
  }
  await rm(fleetDir, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
});

describe('calwatch replay', () => {
  it('finds what the live path and calwatch analyze find on a simulated fleet', async () => {
    // 1. calwatch analyze, in process.
    const analyzed = await runCommand('analyze', [...inputs, '--format', 'json'], {});
    expect(analyzed.code).toBe(0);
    const analyzeFindings = JSON.parse(analyzed.stdout).findings as Finding[];
    const kinds = new Set(analyzeFindings.map((f) => f.kind));
    // The fleet exercises the detectors (otherwise equality would prove little).
    expect(kinds.size).toBeGreaterThanOrEqual(4);

    // 2. Replay in process into a namespace, processed there.
    const namespace = uniqueName('rp');
    namespaces.push(namespace);
    const replayed = await runCommand('replay', [...inputs, '--namespace', namespace, '--process', '--drain-timeout', '90s'], {
      ...PROCESSOR_ENV,
      CALWATCH_TOPIC_PARTITIONS: String(PARTITIONS),
    });
    expect(replayed.stderr).toBe('');
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toMatch(/findings: +\d+ open/);
    const replayFindings = await readLatestFindings(kafka, `calwatch.replay.${namespace}.findings`);

    // 3. The live path: a collector service fed over HTTP, a processor service.
    const prefix = `${uniqueName('rp-live')}.`;
    prefixes.push(prefix);
    const topics = buildTopicNames(prefix);
    await ensureCalwatchTopics(kafka, topics, { partitions: PARTITIONS, retentionMs: 3_600_000, deadLetterRetentionMs: 3_600_000 });
    const env = { ...getTestServices().env, CALWATCH_TOPIC_PREFIX: prefix, LOG_LEVEL: 'silent' };
    const collector = createCollectorService({
      config: loadCollectorConfig({ ...env, COLLECTOR_TOKENS: TOKEN, COLLECTOR_HOST: '127.0.0.1', COLLECTOR_PORT: '0' }),
      logger: createSilentLogger(),
      kafka,
      defaultMetrics: false,
    });
    await collector.start();
    running.push(collector);
    const processorConfig = loadProcessorConfig({ ...env, ...PROCESSOR_ENV, PROCESSOR_GROUP_ID: `${prefix}processor` });
    // The settings the replay chose: daily snapshots carry issue times up to a day back, and
    // every finding update goes out (none is held back at the end).
    const processor = createProcessorService({
      config: processorConfig,
      detection: parseCoreConfig({ lateness: { allowedLatenessMs: 2 * 86_400_000 }, emit: { refreshDays: 0 } }),
      logger: createSilentLogger(),
      kafka,
    });
    await processor.start();
    running.push(processor);
    const url = `http://127.0.0.1:${collector.address()!.port}`;
    const posted = await runCommand('replay', [...inputs, '--collector-url', url, '--token', TOKEN], {});
    expect(posted.stderr).toBe('');
    expect(posted.code).toBe(0);
    const drained = await waitUntilDrained({
      kafka,
      targets: [{ groupId: processorConfig.groupId, topics: [topics.events] }],
      quietTopics: [topics.findings, topics.enriched, topics.deadLetter],
      quietMs: 3_000,
      timeoutMs: 90_000,
    });
    expect(drained).toBe(true);
    const liveFindings = await readLatestFindings(kafka, topics.findings);

    expect(verdicts(replayFindings)).toEqual(verdicts(liveFindings));
    expect(verdicts(replayFindings.filter((f) => f.state === 'open'))).toEqual(verdicts(analyzeFindings));
    // Nothing was dropped as too late on the way.
    const letters = (await readAll(`calwatch.replay.${namespace}.dead-letter`)).map((r) => (JSON.parse(r.value!.toString('utf8')) as { code: string }).code);
    expect(letters.filter((code) => code.startsWith('PROCESSOR_'))).toEqual([]);
  });

  it('resumes an interrupted replay without publishing a record twice', async () => {
    const namespace = uniqueName('rp-resume');
    namespaces.push(namespace);
    const events = `calwatch.replay.${namespace}.events`;
    const args = [...inputs, '--namespace', namespace, '--batch', '20'];
    const env = { CALWATCH_TOPIC_PARTITIONS: String(PARTITIONS) };

    // Paced to take about 8 s for the three weeks; stopped a few simulated days in.
    const stop = new AbortController();
    const running = runCommand('replay', [...args, '--speed', String((21 * 86_400_000) / 8_000)], env, stop.signal);
    await waitFor(async () => (await countRecords(events)) >= 100, 60_000, 'the first 100 records of the replay', { intervalMs: 100 });
    stop.abort();
    const first = await running;
    expect(first.code).toBe(130);
    expect(first.stdout).toContain('interrupted');
    const afterFirst = await readAll(events);
    expect(afterFirst.length).toBeGreaterThan(0);
    // Stopped inside an event file: the resume must start mid-file.
    const checkpointFile = join(stateDir, `calwatch.replay.${namespace}.json`);
    const partial = JSON.parse(await readFile(checkpointFile, 'utf8')) as { finished: boolean; inputs: Record<string, { position: number; done: boolean }> };
    expect(partial.finished).toBe(false);
    expect(Object.values(partial.inputs).some((i) => i.position > 0 && !i.done)).toBe(true);

    const second = await runCommand('replay', [...args, '--resume'], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('resumed:');
    const all = await readAll(events);
    expect(all.length).toBeGreaterThan(afterFirst.length);
    const ids = all.map((r) => CanonicalEvent.parse(JSON.parse(r.value!.toString('utf8'))).eventId);
    expect(new Set(ids).size).toBe(ids.length);

    // The same inputs replayed in one go publish exactly as many events.
    const whole = uniqueName('rp-whole');
    namespaces.push(whole);
    const once = await runCommand('replay', [...inputs, '--namespace', whole], env);
    expect(once.code).toBe(0);
    const wholeIds = (await readAll(`calwatch.replay.${whole}.events`)).map((r) => CanonicalEvent.parse(JSON.parse(r.value!.toString('utf8'))).eventId);
    expect(new Set(ids)).toEqual(new Set(wholeIds));

    // The checkpoint says it finished, and a further --resume sends nothing.
    expect(JSON.parse(await readFile(checkpointFile, 'utf8')).finished).toBe(true);
    const third = await runCommand('replay', [...args, '--resume'], env);
    expect(third.code).toBe(0);
    expect(third.stdout).toContain('nothing left to send');
    expect((await readAll(events)).length).toBe(all.length);
  });
});
