/**
 * The processor as child processes on a real broker: killed with SIGKILL mid-stream and
 * restarted, it comes back from its changelogs with the same findings, none lost, none
 * contradicting another; two instances share the partitions and, when one is killed, the
 * other takes its partitions and their state over.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KafkaClient, createKafkaClient } from '@calwatch/kafka';
import { type CanonicalEvent } from '@calwatch/model';
import { createSilentLogger } from '@calwatch/runtime';
import { simulateFleet } from '@calwatch/simulator';
import { getTestServices } from '../harness/services';
import {
  type Namespace,
  type ProcessorProcess,
  byTime,
  closingEvents,
  collect,
  createNamespace,
  publish,
  publishClosing,
  readFindings,
  referenceFindings,
  startProcessorProcess,
  verdicts,
} from './processor-helpers';
import { waitFor } from '../harness/wait-for';

const PARTITIONS = 3;
let kafka: KafkaClient;
const namespaces: Namespace[] = [];
const children: ProcessorProcess[] = [];

/** A simulated fleet with every leak cause, in time order. */
/** Three license servers' fleets whose names the default partitioner sends to the three partitions. */
function fleet(seed: number): CanonicalEvent[] {
  const mix = { cloned: { groups: 2, size: 3 }, vdi: { count: 4 }, rebuild: { count: 4 }, duplicate: { groups: 1, size: 2 }, corrupted: { count: 1 } };
  return byTime(['LS01', 'LS04', 'LS12'].flatMap((licenseServer, i) => [...simulateFleet({ devices: 150, days: 30, seed: seed * 10 + i, licenseServer, mix }).events()]));
}

/** Records of the events topic the group has committed. */
async function committed(ns: Namespace): Promise<number> {
  const admin = await kafka.createAdmin();
  try {
    const offsets = await admin.committedOffsets(`${ns.prefix}processor`, ns.topics.events);
    return offsets.reduce((sum, o) => sum + Math.max(0, Number(o.offset)), 0);
  } finally {
    await admin.close();
  }
}

/** Records not yet committed by the group on its input topic (work in flight). */
async function lag(ns: Namespace): Promise<number> {
  const admin = await kafka.createAdmin();
  try {
    let sum = 0;
    for (const topic of [ns.topics.events]) {
      const ends = await admin.endOffsets(topic);
      const done = await admin.committedOffsets(`${ns.prefix}processor`, topic);
      for (const end of ends) sum += Number(end.offset) - Math.max(0, Number(done.find((d) => d.partition === end.partition)?.offset ?? 0));
    }
    return sum;
  } finally {
    await admin.close();
  }
}

/** Waits until the findings on the topic are the reference's; shows the difference on timeout. */
async function expectConverged(records: Parameters<typeof readFindings>[0], expected: ReturnType<typeof referenceFindings>, timeoutMs: number, logs: () => string): Promise<void> {
  const want = JSON.stringify(verdicts(expected));
  try {
    await waitFor(() => (JSON.stringify(verdicts(readFindings(records).latest)) === want ? true : undefined), timeoutMs, 'the findings of the pipeline');
  } catch (error) {
    process.stderr.write(logs().split('\n').filter((l) => l.includes('progress') || l.includes('error') || l.includes('assignment')).slice(-30).join('\n'));
    expect(verdicts(readFindings(records).latest)).toEqual(verdicts(expected));
    throw error;
  }
  expect(readFindings(records).conflicts).toEqual([]);
}

beforeAll(() => {
  kafka = createKafkaClient({ connection: getTestServices().kafka, logger: createSilentLogger() });
});

afterAll(async () => {
  for (const child of children) await child.kill('SIGKILL');
  for (const ns of namespaces) await ns.remove();
});

describe('processor processes on a real broker', () => {
  it('killed with SIGKILL mid-stream and restarted, gives the same findings, none lost or contradicted', async () => {
    const ns = await createNamespace(kafka, PARTITIONS, 'proc-kill');
    namespaces.push(ns);
    const events = fleet(5);
    const closing = closingEvents(PARTITIONS, Date.parse(events.at(-1)!.eventTime));
    const expected = referenceFindings([...events, ...closing.map((c) => c.event)]);
    expect(expected.size).toBeGreaterThan(5);

    // Half the input first: the rest arrives while the first instance is frozen, so the kill
    // always leaves input unread, however fast the first instance went through its half.
    const half = Math.floor(events.length / 2);
    await publish(kafka, ns.topics, events.slice(0, half));
    const findings = await collect(kafka, ns.topics.findings);
    try {
      // The smallest fetches make many small units of work, and a short commit interval commits
      // some of them while more are applied than the changelog holds; the freeze and the kill
      // follow the first commit.
      const first = startProcessorProcess(ns.env({ PROCESSOR_MAX_BYTES_PER_PARTITION: '1024', PROCESSOR_COMMIT_INTERVAL_MS: '500' }));
      children.push(first);
      await waitFor(async () => ((await committed(ns)) > 0 ? true : undefined), 60_000, 'the first instance to get going');
      first.child.kill('SIGSTOP');
      await publish(kafka, ns.topics, events.slice(half));
      await publishClosing(kafka, ns.topics, closing);
      await first.kill('SIGKILL');
      // The kill landed mid-stream: part of the work was committed, part not.
      expect(await committed(ns)).toBeGreaterThan(0);
      expect(await lag(ns)).toBeGreaterThanOrEqual(events.length - half);

      const second = startProcessorProcess(ns.env());
      children.push(second);
      // The first may have applied (and published) everything before its kill, its commits a
      // step behind: the second restores, reads the rest again, and commits it all.
      const restoredRecords = () => second.logs().filter((l) => l.msg === 'state restored').reduce((sum, l) => sum + Number(l.records), 0);
      await waitFor(() => (restoredRecords() > 0 ? true : undefined), 60_000, 'the second instance to restore the state');
      await waitFor(async () => ((await lag(ns)) === 0 ? true : undefined), 90_000, 'the second instance to commit every record');
      await expectConverged(findings.records, expected, 90_000, () => first.output() + second.output());
      await second.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      // Nothing was dropped as too late: the state came back rather than being rebuilt.
      const stopped = second.logs().find((l) => l.msg === 'processor stopped')!;
      expect(stopped.tooLate).toBe(0);
    } finally {
      await findings.stop();
    }
  });

  it('two instances share the work; when one is killed the other takes its partitions and state over', async () => {
    const ns = await createNamespace(kafka, PARTITIONS, 'proc-pair');
    namespaces.push(ns);
    const events = fleet(9);
    const half = events.findIndex((e) => Date.parse(e.eventTime) >= Date.parse(events[0]!.eventTime) + 15 * 86_400_000);
    const closing = closingEvents(PARTITIONS, Date.parse(events.at(-1)!.eventTime));
    const findings = await collect(kafka, ns.topics.findings);
    try {
      const a = startProcessorProcess(ns.env());
      const b = startProcessorProcess(ns.env());
      children.push(a, b);
      const assigned = (p: ProcessorProcess) => p.logs().filter((l) => l.msg === 'assignment').at(-1);
      await waitFor(() => (Number(assigned(a)?.assigned ?? 0) > 0 && Number(assigned(b)?.assigned ?? 0) > 0 ? true : undefined), 60_000, 'both instances to get partitions');
      // The input partitions between two members: neither holds them all.
      expect(Number(assigned(a)!.assigned) + Number(assigned(b)!.assigned)).toBe(PARTITIONS);

      await publish(kafka, ns.topics, events.slice(0, half));
      const firstHalf = referenceFindings([...events.slice(0, half), ...closingEvents(PARTITIONS, Date.parse(events[half - 1]!.eventTime)).map((c) => c.event)]);
      await publishClosing(kafka, ns.topics, closingEvents(PARTITIONS, Date.parse(events[half - 1]!.eventTime)));
      await expectConverged(findings.records, firstHalf, 90_000, () => a.output() + b.output());

      await b.kill('SIGKILL');
      await publish(kafka, ns.topics, events.slice(half));
      await publishClosing(kafka, ns.topics, closing);
      const all = referenceFindings([
        ...events,
        ...closingEvents(PARTITIONS, Date.parse(events[half - 1]!.eventTime)).map((c) => c.event),
        ...closing.map((c) => c.event),
      ]);
      await expectConverged(findings.records, all, 90_000, () => a.output());
      expect(Number(assigned(a)!.assigned)).toBe(PARTITIONS);
      // The partitions of the killed instance came with their state.
      const restoredAfterKill = a.logs().filter((l) => l.msg === 'state restored' && Number(l.records) > 0);
      expect(restoredAfterKill.length).toBeGreaterThan(0);
      await a.kill('SIGTERM');
      expect(await a.exited).toBe(0);
      expect(a.logs().find((l) => l.msg === 'processor stopped')!.tooLate).toBe(0);
    } finally {
      await findings.stop();
    }
  });
});
