import { describe, expect, it } from 'vitest';
import { type BatchContext, type IncomingRecord, type OutgoingRecord, type PartitionReader, type Producer, type TopicPartitionOffset } from '@calwatch/kafka';
import { buildTopicNames, kafkaKeyOf } from '@calwatch/model';
import { type Logger, createLogger, createSilentLogger } from '@calwatch/runtime';
import { parseCoreConfig } from '../core/index';
import { createTimelineKit } from '../testing/timeline-kit';
import { META_KEY } from './changelog';
import { createRuntimeMetrics } from './metrics';
import { type OffsetSource, createStreamRuntime } from './stream-runtime';
import type { Topology } from './topology';

const topics = buildTopicNames('rt.');
const PARTITIONS = 1;

/** Topics as arrays of records: what the producer wrote, what the reader and offsets see. */
function createBroker() {
  const logs = new Map<string, IncomingRecord[]>();
  const committed = new Map<string, bigint>();
  const log = (topic: string) => {
    let l = logs.get(topic);
    if (l === undefined) logs.set(topic, (l = []));
    return l;
  };
  const sends: string[][] = [];
  /** Offsets the runtime committed, and where it rewound, per `topic:partition`, in order. */
  const commits: string[] = [];
  const seeks: string[] = [];
  let failNext = false;
  const producer: Producer = {
    async send(records: readonly OutgoingRecord[]) {
      if (failNext) {
        failNext = false;
        throw new Error('broker unavailable');
      }
      sends.push([...new Set(records.map((r) => r.topic))]);
      for (const r of records) {
        const l = log(r.topic);
        const value = r.value === null ? null : Buffer.from(r.value);
        l.push({ topic: r.topic, partition: r.partition ?? 0, offset: String(l.length), key: r.key, value, headers: { ...(r.headers ?? {}) }, timestamp: '0' });
      }
    },
    async close() {},
  };
  const reader: PartitionReader = {
    async readToEnd(topic, _partitions, onRecords) {
      const records = [...log(topic)];
      if (records.length > 0) await onRecords(records);
      return { records: records.length };
    },
  };
  const offsets: OffsetSource = {
    async progress(topic) {
      return [{ partition: 0, start: 0n, end: BigInt(log(topic).length), committed: committed.get(topic) ?? -1n }];
    },
  };
  const offsetCommits = {
    async commit(list: readonly TopicPartitionOffset[]) {
      for (const o of list) {
        commits.push(`${o.topic}:${o.partition}@${o.offset}`);
        committed.set(o.topic, BigInt(o.offset));
      }
    },
    seek(position: TopicPartitionOffset) {
      seeks.push(`${position.topic}:${position.partition}@${position.offset}`);
    },
  };
  return {
    producer,
    reader,
    offsets,
    offsetCommits,
    commits,
    seeks,
    sends,
    log,
    commit: (topic: string, next: number) => committed.set(topic, BigInt(next)),
    failNextSend: () => (failNext = true),
  };
}

/** A batch's context; the partition's end defaults to 0, so every batch reaches it. */
function context(topic: string, stale = false, highWatermark = '0'): BatchContext {
  return { topic, partition: 0, highWatermark, heartbeat: async () => {}, isStale: () => stale };
}

const COMMIT_INTERVAL_MS = 5_000;

/** A runtime over the in-memory broker, with the tests' commit interval. */
function runtimeOn(broker: ReturnType<typeof createBroker>, topology: Topology, logger: Logger, now: () => number) {
  return createStreamRuntime({
    topology,
    producer: broker.producer,
    reader: broker.reader,
    offsets: broker.offsets,
    offsetCommits: broker.offsetCommits,
    commitIntervalMs: COMMIT_INTERVAL_MS,
    logger,
    now,
  });
}

function setup() {
  const broker = createBroker();
  const topology: Topology = { topics, partitions: PARTITIONS, config: parseCoreConfig({}), idleAfterMs: 0, metrics: createRuntimeMetrics() };
  let clock = Date.parse('2100-01-01T00:00:00Z');
  const runtime = runtimeOn(broker, topology, createSilentLogger(), () => clock);
  const kit = createTimelineKit({ server: 'LS-RT' });
  const events = [kit.issue(1, { hwid: 'ab01', computer: 'PC-A', day: 0 }), kit.issue(2, { hwid: 'ab01', computer: 'PC-B', day: 1 }), kit.issue(3, { hwid: 'ab01', computer: 'PC-A', day: 2 })];
  for (const event of events) {
    const l = broker.log(topics.events);
    l.push({ topic: topics.events, partition: 0, offset: String(l.length), key: kafkaKeyOf(event), value: Buffer.from(JSON.stringify(event)), headers: {}, timestamp: '0' });
  }
  const all = [{ topic: topics.events, partition: 0 }];
  return { broker, topology, runtime, events, all, tick: (ms: number) => (clock += ms) };
}

function enrichedIds(broker: ReturnType<typeof createBroker>): string[] {
  return broker.log(topics.enriched).map((r) => (JSON.parse(r.value!.toString()) as { event: { eventId: string } }).event.eventId);
}

describe('the stream runtime', () => {
  it('writes outputs before the changelog, and the changelog ends with the task meta', async () => {
    const { broker, runtime, all } = setup();
    await runtime.onAssignment(all);
    await runtime.handleBatch(broker.log(topics.events), context(topics.events));
    expect(broker.sends.length).toBe(2);
    expect(broker.sends[0]).not.toContain(topics.processorChangelog);
    expect(broker.sends[1]).toEqual([topics.processorChangelog]);
    expect(broker.log(topics.processorChangelog).at(-1)!.key).toBe(META_KEY);
  });

  it('commits the offset after the last record, once the changelog has it', async () => {
    const { broker, runtime, all } = setup();
    await runtime.onAssignment(all);
    await runtime.handleBatch(broker.log(topics.events), context(topics.events));
    expect(broker.commits).toEqual([`${topics.events}:0@3`]);
  });

  it('behind the end of its partition, keeps state changes out of the changelog until the commit interval, then writes each changed key once', async () => {
    const { broker, runtime, all, tick, topology } = setup();
    await runtime.onAssignment(all);
    const [first, second, third] = broker.log(topics.events);
    const behind = context(topics.events, false, '100');
    await runtime.handleBatch([first!], behind);
    tick(COMMIT_INTERVAL_MS - 1);
    await runtime.handleBatch([second!], behind);
    // Outputs go out with every batch; the changelog and the commit wait.
    expect(broker.sends.flat()).not.toContain(topics.processorChangelog);
    expect(broker.log(topics.enriched).length).toBeGreaterThan(0);
    expect(broker.commits).toEqual([]);
    tick(1);
    await runtime.handleBatch([third!], behind);
    expect(broker.commits).toEqual([`${topics.events}:0@3`]);
    const changelog = broker.log(topics.processorChangelog);
    const keys = changelog.map((r) => r.key);
    // The HWID's state changed in all three batches and is written once.
    expect(new Set(keys).size).toBe(keys.length);
    expect(topology.metrics.changelogRecords).toBe(changelog.length);
    const meta = JSON.parse(changelog.filter((r) => r.key === META_KEY).at(-1)!.value!.toString()) as { lastOffset: string };
    expect(meta.lastOffset).toBe('2');
  });

  it('an output send that fails surfaces at the next unit of work, which rewinds the partition to the first record the changelog lacks', async () => {
    const { broker, runtime, all, topology } = setup();
    await runtime.onAssignment(all);
    const [first, second, third] = broker.log(topics.events);
    const behind = context(topics.events, false, '100');
    await runtime.handleBatch([first!], behind);
    broker.failNextSend();
    // The batch's outputs go out while the next batch is applied: their failure shows there.
    await runtime.handleBatch([second!], behind);
    await expect(runtime.handleBatch([third!], behind)).rejects.toThrow('broker unavailable');
    expect(broker.seeks).toEqual([`${topics.events}:0@0`]);
    expect(broker.commits).toEqual([]);
    // Read again from there into a restored task: applied, not skipped, and flushed at the end.
    const replayed = topology.metrics.replayedRecords;
    await runtime.handleBatch(broker.log(topics.events), context(topics.events));
    expect(topology.metrics.replayedRecords).toBe(replayed);
    expect(broker.commits).toEqual([`${topics.events}:0@3`]);
  });

  it('on close, writes the changes it held and commits their offset', async () => {
    const { broker, runtime, all } = setup();
    await runtime.onAssignment(all);
    await runtime.handleBatch(broker.log(topics.events), context(topics.events, false, '100'));
    expect(broker.commits).toEqual([]);
    await runtime.close();
    expect(broker.commits).toEqual([`${topics.events}:0@3`]);
    expect(broker.log(topics.processorChangelog).at(-1)!.key).toBe(META_KEY);
    // A batch delivered while the consumer stops is left to the partition's next owner.
    await runtime.handleBatch(broker.log(topics.events), context(topics.events));
    expect(broker.commits).toHaveLength(1);
  });

  it('writes nothing for a batch whose partition moved away, and restores the task for the next', async () => {
    const { broker, runtime, all, topology } = setup();
    await runtime.onAssignment(all);
    await runtime.handleBatch(broker.log(topics.events), context(topics.events, true));
    expect(broker.sends).toEqual([]);
    expect(runtime.tasks().map((t) => t.task)).not.toContain(`${topics.events}:0`);
    await runtime.handleBatch(broker.log(topics.events), context(topics.events));
    expect(broker.sends.length).toBe(2);
    expect(topology.metrics.restoredTasks).toBe(2);
  });

  it('forgets a task whose write failed; the re-delivered batch starts again from the changelog', async () => {
    const { broker, runtime, all, topology } = setup();
    await runtime.onAssignment(all);
    const [first, ...rest] = broker.log(topics.events);
    await runtime.handleBatch([first!], context(topics.events));
    broker.failNextSend();
    await expect(runtime.handleBatch(rest, context(topics.events))).rejects.toThrow('broker unavailable');
    // The same batch again: it must be applied (not skipped as already seen) and written.
    const before = topology.metrics.replayedRecords;
    await runtime.handleBatch(rest, context(topics.events));
    expect(topology.metrics.replayedRecords).toBe(before);
    const meta = JSON.parse(broker.log(topics.processorChangelog).filter((r) => r.key === META_KEY).at(-1)!.value!.toString()) as { lastOffset: string };
    expect(meta.lastOffset).toBe('2');
  });

  it('does not punctuate between the start of a rebalance and the new assignment', async () => {
    const { broker, runtime, all, tick, events } = setup();
    await runtime.onAssignment(all);
    await runtime.handleBatch(broker.log(topics.events), context(topics.events));
    broker.commit(topics.events, 3);
    const sent = broker.sends.length;
    runtime.onRebalance();
    tick(10_000);
    await runtime.punctuate();
    expect(broker.sends.length).toBe(sent);
    await runtime.onAssignment(all);
    await runtime.punctuate();
    // Caught up and quiet: the task releases the event its lateness still held.
    expect(broker.sends.length).toBeGreaterThan(sent);
    expect(enrichedIds(broker)).toContain(events[2]!.eventId);
  });

  it('does not declare idle a partition with records left to read', async () => {
    const { broker, runtime, all, tick, events } = setup();
    await runtime.onAssignment(all);
    const [first] = broker.log(topics.events);
    await runtime.handleBatch([first!], context(topics.events));
    broker.commit(topics.events, 1);
    const sent = broker.sends.length;
    tick(10_000);
    await runtime.punctuate();
    // Two records wait: flushing the buffer now would apply them behind what it released.
    expect(broker.sends.length).toBe(sent);
    expect(enrichedIds(broker)).not.toContain(events[0]!.eventId);
  });

  it('restores each changelog key from its last record: earlier records of a key, even unreadable ones, do not count', async () => {
    const { broker, runtime, all } = setup();
    await runtime.onAssignment(all);
    await runtime.handleBatch(broker.log(topics.events), context(topics.events));
    const written = [...broker.log(topics.processorChangelog)];
    const before = runtime.tasks()[0]!;
    // The same changelog, each record preceded by an unreadable one of its key (left by a
    // bug since fixed, say): compaction would drop those, a restore before it must not care.
    const changelog = broker.log(topics.processorChangelog);
    changelog.length = 0;
    for (const r of written) changelog.push({ ...r, value: Buffer.from('not json') }, r);
    const errors: string[] = [];
    const logger = createLogger({ service: 't', version: 't', level: 'error', destination: { write: (line: string) => errors.push(line) } });
    const topology: Topology = { topics, partitions: PARTITIONS, config: parseCoreConfig({}), idleAfterMs: 0, metrics: createRuntimeMetrics() };
    const restored = runtimeOn(broker, topology, logger, () => 0);
    await restored.onAssignment(all);
    const after = restored.tasks()[0]!;
    expect(errors).toEqual([]);
    expect(topology.metrics.restoredRecords).toBe(2 * written.length);
    expect([after.keys, after.stateEntries, after.maxEventTime]).toEqual([before.keys, before.stateEntries, before.maxEventTime]);
  });

  it('drops the tasks of partitions that moved away and keeps the others', async () => {
    const { runtime, all } = setup();
    await runtime.onAssignment(all);
    expect(runtime.tasks().map((t) => t.task)).toEqual([`${topics.events}:0`]);
    await runtime.onAssignment([]);
    expect(runtime.tasks()).toEqual([]);
    await runtime.onAssignment(all);
    expect(runtime.tasks()).toHaveLength(1);
    await runtime.close();
    expect(runtime.tasks()).toEqual([]);
  });
});
