/**
 * `calwatch replay --process` pointed at a throw-away broker that stalls (SIGSTOP) for
 * longer than a request timeout in the middle of the run: the replay rides it out and
 * finds what `calwatch analyze` finds, nothing lost. The shared broker is not touched;
 * Elasticsearch is the shared node (a namespace of its own).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createElasticsearchClient } from '@calwatch/elasticsearch';
import { createKafkaClient, type KafkaClient } from '@calwatch/kafka';
import { type Finding } from '@calwatch/model';
import { createSilentLogger } from '@calwatch/runtime';
import { parseMix, simulateFleet, writeFleet } from '@calwatch/simulator';
import { buildIndexNames } from '@calwatch/indexer';
import { COMMANDS, readLatestFindings, type CommandIo } from '@calwatch/cli';
import { deleteIndexSet } from '../harness/cleanup';
import { getTestServices, uniqueName } from '../harness/services';
import { createTextSink } from '../harness/text-sink';
import { waitFor } from '../harness/wait-for';
import { createThrowawayBroker, type ThrowawayBroker } from './kafka-throwaway-broker';

/** Longer than kafkajs's 30 s request timeout: the stall shows as failed requests, not slow ones. */
const STALL_MS = 35_000;
const DAYS = 21;

let broker: ThrowawayBroker;
let kafka: KafkaClient;
let fleetDir: string;
let stateDir: string;
const namespace = uniqueName('rp-stall');

beforeAll(async () => {
  broker = await createThrowawayBroker();
  await broker.start();
  kafka = createKafkaClient({ connection: { brokers: broker.brokers, clientId: 'replay-outage-test', ssl: false }, logger: createSilentLogger() });
  fleetDir = await mkdtemp(join(tmpdir(), 'calwatch-replay-stall-fleet-'));
  stateDir = await mkdtemp(join(tmpdir(), 'calwatch-replay-stall-state-'));
  const simulation = simulateFleet({ seed: 7, devices: 60, days: DAYS, pool: 45, mix: parseMix('cloned=2x3,vdi=5,deleter=2/3,rebuild=3,duplicate=1x2,corrupted=2') });
  await writeFleet(simulation, { outDir: join(fleetDir, 'fleet'), formats: ['ps51-csv', 'winlogbeat'], gzip: true });
}, 240_000);

afterAll(async () => {
  await broker?.destroy();
  const client = createElasticsearchClient({ connection: getTestServices().elasticsearch });
  try {
    await deleteIndexSet(client, buildIndexNames(`calwatch-replay-${namespace}-`));
  } finally {
    await client.close();
  }
  if (fleetDir !== undefined) await rm(fleetDir, { recursive: true, force: true });
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
}, 120_000);

async function runCommand(name: string, args: string[], env: Record<string, string>) {
  const stdout = createTextSink();
  const stderr = createTextSink();
  const io: CommandIo = {
    stdout,
    stderr,
    env: { ...getTestServices().env, CALWATCH_REPLAY_DIR: stateDir, LOG_LEVEL: 'info', ...env },
    cwd: fleetDir,
    signal: new AbortController().signal,
  };
  const { command } = await COMMANDS[name]!();
  const code = await command.run(args, io);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

async function eventsPublished(): Promise<number> {
  const admin = await kafka.createAdmin();
  try {
    const topic = `calwatch.replay.${namespace}.events`;
    if (!(await admin.listTopics()).includes(topic)) return 0;
    return (await admin.endOffsets(topic)).reduce((sum, p) => sum + Number(p.offset), 0);
  } finally {
    await admin.close();
  }
}

function verdicts(findings: readonly Finding[]) {
  return Object.fromEntries(
    [...findings].sort((a, b) => (a.id < b.id ? -1 : 1)).map((f) => [f.id, { kind: f.kind, hwids: f.hwids, computers: f.computers, licenseIds: f.licenseIds, leakedCals: f.leakedCals }]),
  );
}

describe('replay --process through a broker stall', () => {
  it('rides out a 35 s SIGSTOP of the broker and finds what analyze finds', async () => {
    const inputs = ['fleet/ps51-csv', 'fleet/winlogbeat', 'fleet/client-stores'];
    const analyzed = await runCommand('analyze', [...inputs, '--format', 'json'], {});
    expect(analyzed.code, analyzed.stderr).toBe(0);
    const expected = JSON.parse(analyzed.stdout).findings as Finding[];
    expect(expected.length).toBeGreaterThan(3);

    // Paced to take about 20 s, so the stall falls in the middle of it.
    const replay = runCommand('replay', [...inputs, '--namespace', namespace, '--process', '--drain-timeout', '240s', '--speed', String((DAYS * 86_400_000) / 20_000)], {
      KAFKA_BROKERS: broker.brokers.join(','),
      CALWATCH_TOPIC_PARTITIONS: '3',
      PROCESSOR_SESSION_TIMEOUT_MS: '10000',
      PROCESSOR_HEARTBEAT_INTERVAL_MS: '1000',
      PROCESSOR_PUNCTUATE_INTERVAL_MS: '200',
      PROCESSOR_IDLE_AFTER_MS: '2500',
      INDEXER_RETRY_MAX_DELAY_MS: '2000',
    });
    let settled = false;
    void replay.finally(() => (settled = true));
    await waitFor(async () => settled || (await eventsPublished()) >= 50, 120_000, 'the replay to publish its first 50 events', { intervalMs: 200 });
    expect(settled).toBe(false);
    await broker.pause();
    try {
      // The stall under test: the broker stays stopped for STALL_MS, or until the replay ends.
      await Promise.race([replay, new Promise((resolve) => setTimeout(resolve, STALL_MS))]);
      // Ending during the stall would mean the replay gave up on it.
      expect(settled).toBe(false);
    } finally {
      broker.resume();
    }

    const result = await replay;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const findings = await readLatestFindings(kafka, `calwatch.replay.${namespace}.findings`);
    expect(verdicts(findings.filter((f) => f.state === 'open'))).toEqual(verdicts(expected));
  }, 480_000);
});
