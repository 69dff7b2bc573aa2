/**
 * One license server at the size calwatch is for, through every service on the real broker
 * and node: a 50,000-row export with a cloned image reissued over 5,000 times and a VDI name
 * that presented over 2,000 HWIDs is posted to the collector, the processor (a child process, killed
 * with SIGKILL in the middle and restarted) and the indexer take it to Elasticsearch, and the
 * findings there equal the in-process pipeline's and `calwatch analyze`'s on the same file. No record on any topic reaches
 * the broker's record limit, and the processor drains.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createElasticsearchClient } from '@calwatch/elasticsearch';
import { type KafkaClient, createKafkaClient } from '@calwatch/kafka';
import { CanonicalEvent, type Finding } from '@calwatch/model';
import { type Service, createSilentLogger } from '@calwatch/runtime';
import { SCALE_EXPORT_TAKEN_AT, writeScaleExport } from '@calwatch/simulator';
import { createCollectorService, loadCollectorConfig } from '@calwatch/collector';
import { buildIndexNames, createIndexerService, installElasticsearchSetup, loadIndexerConfig } from '@calwatch/indexer';
import { COMMANDS, waitUntilDrained, type CommandIo } from '@calwatch/cli';
import { deleteIndexSet } from '../harness/cleanup';
import { getTestServices } from '../harness/services';
import { createTextSink } from '../harness/text-sink';
import { readTopicToEnd } from '../harness/topic-reader';
import { type Namespace, type ProcessorProcess, createNamespace, referenceFindings, startProcessorProcess } from './processor-helpers';
import { waitFor } from '../harness/wait-for';

const PARTITIONS = 3;
const TOKEN = 'scale-test-token-0123456789abcdef';
const ROWS = 50_000;
/** Kafka's default max.message.bytes: what a record must stay well under. */
const BROKER_RECORD_LIMIT = 1_048_588;

let kafka: KafkaClient;
let ns: Namespace;
let workDir: string;
const services: Service[] = [];
const children: ProcessorProcess[] = [];

beforeAll(async () => {
  kafka = createKafkaClient({ connection: getTestServices().kafka, logger: createSilentLogger() });
  ns = await createNamespace(kafka, PARTITIONS, 'scale');
  workDir = await mkdtemp(join(tmpdir(), 'calwatch-scale-'));
});

afterAll(async () => {
  for (const child of children) await child.kill('SIGKILL');
  for (const service of services.reverse()) await service.stop().catch(() => undefined);
  await ns.remove();
  const client = createElasticsearchClient({ connection: getTestServices().elasticsearch });
  try {
    await deleteIndexSet(client, buildIndexNames(`${ns.prefix.slice(0, -1)}-`));
  } finally {
    await client.close();
  }
  await rm(workDir, { recursive: true, force: true });
});

async function runCommand(name: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = createTextSink();
  const stderr = createTextSink();
  const io: CommandIo = { stdout, stderr, env: { ...getTestServices().env, LOG_LEVEL: 'silent' }, cwd: workDir, signal: new AbortController().signal };
  const { command } = await COMMANDS[name]!();
  const code = await command.run(args, io);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** What the comparison is about, by finding id. */
function verdicts(findings: Iterable<Pick<Finding, 'id' | 'kind' | 'severity' | 'leakedCals'> & { state?: Finding['state'] }>) {
  return Object.fromEntries(
    [...findings]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((f) => [f.id, { kind: f.kind, state: f.state ?? 'open', severity: f.severity, leakedCals: f.leakedCals }]),
  );
}



async function committedEvents(): Promise<number> {
  const admin = await kafka.createAdmin();
  try {
    return (await admin.committedOffsets(`${ns.prefix}processor`, ns.topics.events)).reduce((sum, o) => sum + Math.max(0, Number(o.offset)), 0);
  } finally {
    await admin.close();
  }
}

describe('one license server at real size, through every service', () => {
  it('gives in Elasticsearch the findings of analyze, across a processor killed mid-stream, with no record near the limit', async () => {
    // One cloned image with about 5,500 CALs across its clones' names, one VDI name with about
    // 2,250 HWIDs, healthy devices for the rest.
    const file = join(workDir, 'issued-licenses.csv');
    await writeScaleExport(file, { rows: ROWS, clonedShare: 0.11, rowsPerImage: 5_500, churnShare: 0.045, rowsPerChurner: 2_250 });
    const csv = await readFile(file);
    // The workload is what it says: the clone's HWID on over 5,000 rows, the VDI name with over 2,000 HWIDs.
    const rows = csv.toString('latin1').split('\r\n').slice(2, -1).map((line) => line.split('","'));
    const perHwid = new Map<string, number>();
    const hwidsPerName = new Map<string, Set<string>>();
    for (const cells of rows) {
      perHwid.set(cells[16]!, (perHwid.get(cells[16]!) ?? 0) + 1);
      hwidsPerName.set(cells[17]!, (hwidsPerName.get(cells[17]!) ?? new Set()).add(cells[16]!));
    }
    expect(rows).toHaveLength(ROWS);
    expect([...perHwid.values()].reduce((a, b) => Math.max(a, b), 0)).toBeGreaterThanOrEqual(5_000);
    expect([...hwidsPerName.values()].reduce((a, set) => Math.max(a, set.size), 0)).toBeGreaterThanOrEqual(2_000);

    // 1. The offline report.
    const analyzed = await runCommand('analyze', [file, '--format', 'json', '--snapshot-time', SCALE_EXPORT_TAKEN_AT, '--as-of', SCALE_EXPORT_TAKEN_AT]);
    expect(analyzed.code).toBe(0);
    const expected = (JSON.parse(analyzed.stdout) as { findings: Finding[] }).findings;
    const kinds = expected.map((f) => f.kind);
    expect(kinds).toContain('cloned-image');
    expect(kinds).toContain('hwid-churn');

    // 2. The services: a collector over HTTP, the indexer, and the processor as a process of its own.
    const env = ns.env({ LOG_LEVEL: 'silent', INDEXER_GROUP_ID: `${ns.prefix}indexer`, INDEXER_FETCH_MAX_WAIT_MS: '50' });
    const collector = createCollectorService({
      config: loadCollectorConfig({ ...env, COLLECTOR_TOKENS: TOKEN, COLLECTOR_HOST: '127.0.0.1', COLLECTOR_PORT: '0' }),
      logger: createSilentLogger(),
      kafka,
      defaultMetrics: false,
    });
    await collector.start();
    services.push(collector);
    const indexerConfig = loadIndexerConfig(env);
    const indexNames = buildIndexNames(indexerConfig.indexPrefix, indexerConfig.indexInterval);
    const elasticsearch = createElasticsearchClient({ connection: getTestServices().elasticsearch });
    await installElasticsearchSetup({ client: elasticsearch, names: indexNames, logger: createSilentLogger() });
    const indexer = createIndexerService({ config: indexerConfig, logger: createSilentLogger(), kafka, elasticsearch });
    await indexer.start();
    services.push(indexer);
    // Commits at least every second while behind: the kill lands with part of the input
    // committed and more applied than the changelog holds, which the next process reads again.
    const first = startProcessorProcess(ns.env({ PROCESSOR_COMMIT_INTERVAL_MS: '1000' }));
    children.push(first);

    const response = await fetch(`http://127.0.0.1:${collector.address()!.port}/v1/snapshots/issued-licenses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/csv', 'x-calwatch-snapshot-time': SCALE_EXPORT_TAKEN_AT },
      body: csv,
    });
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as { events?: number };
    expect(accepted.events ?? ROWS).toBe(ROWS);

    // 3. SIGKILL once part of the work is committed, then a new process takes over from the changelog.
    await waitFor(async () => ((await committedEvents()) >= 10_000 ? true : undefined), 300_000, 'the first processor to get going');
    await first.kill('SIGKILL');
    expect(await committedEvents()).toBeLessThan(ROWS);
    const second = startProcessorProcess(ns.env());
    children.push(second);
    const drained = await waitUntilDrained({
      kafka,
      targets: [
        { groupId: `${ns.prefix}processor`, topics: [ns.topics.events] },
        { groupId: `${ns.prefix}indexer`, topics: [ns.topics.findings, ns.topics.enriched] },
      ],
      quietTopics: [ns.topics.findings, ns.topics.enriched, ns.topics.deadLetter, ns.topics.processorChangelog],
      quietMs: 3_000,
      timeoutMs: 420_000,
    });
    if (!drained) process.stderr.write(second.logs().filter((l) => l.msg === 'progress' || l.level === 'error' || l.level === 'warn').slice(-10).map((l) => JSON.stringify(l)).join('\n'));
    expect(drained).toBe(true);
    expect(second.logs().some((l) => l.msg === 'state restored' && Number(l.records) > 0)).toBe(true);

    // 4. Elasticsearch holds the in-process pipeline's findings for the events the collector
    // published, and the findings analyze reports for the file. (analyze flushes at the end:
    // an update the live processor holds back until new evidence, such as a leaked count one
    // lower with the verdict unchanged, is in its report; the comparison with it is on the verdict.)
    const published = (await readTopicToEnd(kafka, ns.topics.events, PARTITIONS)).map((r) => CanonicalEvent.parse(JSON.parse(r.value!.toString())));
    expect(published.length).toBe(ROWS);
    const reference = referenceFindings(published);
    await elasticsearch.indices.refresh({ index: indexNames.findingsAlias });
    const found = await elasticsearch.search<{ calwatch: { finding: { id: string; kind: Finding['kind']; state: Finding['state']; severity: Finding['severity']; leaked_cals: number } } }>({
      index: indexNames.findingsAlias,
      size: 1_000,
      query: { match_all: {} },
    });
    const indexed = found.hits.hits.map((h) => {
      const f = h._source!.calwatch.finding;
      return { id: f.id, kind: f.kind, state: f.state, severity: f.severity, leakedCals: f.leaked_cals };
    });
    expect(verdicts(indexed)).toEqual(verdicts(reference.values()));
    const verdictOnly = (v: ReturnType<typeof verdicts>) => Object.fromEntries(Object.entries(v).map(([id, { leakedCals: _, ...rest }]) => [id, rest]));
    expect(verdictOnly(verdicts(indexed.filter((f) => f.state !== 'resolved')))).toEqual(verdictOnly(verdicts(expected)));

    // 5. No record anywhere near the broker's limit, and nothing dead-lettered by the processor.
    let largest = { topic: '', bytes: 0 };
    for (const topic of Object.values(ns.topics)) {
      for (const record of await readTopicToEnd(kafka, topic, PARTITIONS)) {
        const bytes = (record.value?.length ?? 0) + Buffer.byteLength(record.key ?? '');
        if (bytes > largest.bytes) largest = { topic, bytes };
      }
    }
    // Bounded whatever the reissues: published lists hold at most 50 ids, and the largest state
    // entry (a finding's track of a cloned HWID) at most state.maxLicensesPerKey licenses.
    expect(largest.bytes, `largest record on ${largest.topic}`).toBeLessThan(BROKER_RECORD_LIMIT / 4);
    const letters = (await readTopicToEnd(kafka, ns.topics.deadLetter, PARTITIONS)).map((r) => (JSON.parse(r.value!.toString()) as { code: string }).code);
    expect(letters).toEqual([]);
    await second.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 900_000);
});
