/**
 * `calwatch demo`, bounded: the whole pipeline in process against the real broker and
 * node, a simulated fleet streamed through the collector's HTTP API; the final summary
 * is complete and the findings are searchable in Elasticsearch.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createElasticsearchClient } from '@calwatch/elasticsearch';
import { createKafkaClient } from '@calwatch/kafka';
import { createSilentLogger } from '@calwatch/runtime';
import { FINDING_KIND_OF } from '@calwatch/simulator';
import { buildIndexNames } from '@calwatch/indexer';
import { COMMANDS, type CommandIo } from '@calwatch/cli';
import { deleteIndexSet, deleteTopicsWithPrefix } from '../harness/cleanup';
import { getTestServices, uniqueName } from '../harness/services';
import { createTextSink } from '../harness/text-sink';

const namespace = uniqueName('demo-test');
const folders: string[] = [];

afterAll(async () => {
  const kafka = createKafkaClient({ connection: getTestServices().kafka, logger: createSilentLogger() });
  await deleteTopicsWithPrefix(kafka, `calwatch.${namespace}.`);
  const client = createElasticsearchClient({ connection: getTestServices().elasticsearch });
  try {
    await deleteIndexSet(client, buildIndexNames(`calwatch-${namespace}-`));
  } finally {
    await client.close();
  }
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

describe('calwatch demo', () => {
  it('runs unattended to a final summary, with the findings searchable in Elasticsearch', async () => {
    const state = await mkdtemp(join(tmpdir(), 'calwatch-demo-test-'));
    folders.push(state);
    const stdout = createTextSink();
    const stderr = createTextSink();
    // The services of the test run; logs go to a folder of the test's own.
    const io: CommandIo = { stdout, stderr, env: { ...getTestServices().env, XDG_STATE_HOME: state }, cwd: state, signal: new AbortController().signal };
    const { command } = await COMMANDS.demo!();
    const code = await command.run(['--duration', '20s', '--devices', '60', '--days', '14', '--namespace', namespace, '--drain-timeout', '60s'], io);
    const out = stdout.text();
    expect(stderr.text()).toBe('');
    expect(code, out).toBe(0);

    expect(out).toContain('Demo finished');
    expect(out).not.toContain('had not caught up');
    const findings = /Findings: (\d+) open, (\d+) resolved\n/.exec(out);
    expect(findings).not.toBeNull();
    const total = Number(findings![1]) + Number(findings![2]);
    expect(total).toBeGreaterThan(0);
    expect(out).toMatch(/Leaked CALs: \d+ \(sum over open findings\); reclaimable: \d+ distinct licenses/);
    expect(out).toMatch(/Pages sent: \d+ pages? and \d+ updates?( \(by rule: [^)]*\))?; \d+ incidents?, at most \d+ notifications? for one \(received by the local webhook\)/);
    // Every simulated cause is scored, with a precision and a recall.
    expect(out).toContain("Detection against the simulator's truth");
    // (A leak-rate spike has no simulated cause: it is not scored.)
    for (const kind of new Set(Object.values(FINDING_KIND_OF))) expect(out).toMatch(new RegExp(`\\n  ${kind} +\\d+ +\\d+ +(\\d+%|n/a) +(\\d+%|n/a)\\n`));
    expect(out).toMatch(/\n  cloned-image +\d+ +[1-9]\d* +[1-9]\d*% +[1-9]\d*%\n/);
    expect(out).toContain('==> Stopping the demo services (reverse order)');

    // Where the summary says they are: one document per finding, open ones found by state.
    const index = `calwatch-${namespace}-findings`;
    expect(out).toContain(`finding documents in ${index}`);
    expect(out).toContain(`${index}/_search?q=calwatch.finding.state:open`);
    const client = createElasticsearchClient({ connection: getTestServices().elasticsearch });
    try {
      const documents = Number(/Elasticsearch: (\d+) finding documents/.exec(out)?.[1]);
      expect((await client.count({ index })).count).toBe(documents);
      expect(documents).toBe(total);
      const open = await client.search({ index, q: 'calwatch.finding.state:open', size: 0, track_total_hits: true });
      expect((open.hits.total as { value: number }).value).toBe(Number(findings![1]));
      const clones = await client.search({ index, q: 'calwatch.finding.kind:cloned-image', size: 1 });
      expect(clones.hits.hits.length).toBe(1);
    } finally {
      await client.close();
    }
  }, 180_000);
});
