import { type IncomingRecord, type OutgoingRecord } from '@calwatch/kafka';
import { type CanonicalEvent, buildTopicNames, kafkaKeyOf } from '@calwatch/model';
import { Finding } from '@calwatch/model';
import type { CoreConfig } from '../core/index';
import { type RuntimeMetrics, createRuntimeMetrics } from '../runtime/metrics';
import type { Task } from '../runtime/task';
import { type Topology, createTask, changelogTopicOf, inputTopicsOf, taskKindOf } from '../runtime/topology';

/** Where a simulated crash strikes in a unit of work (see the runtime's order of writes). */
export type CrashPoint = 'before-writes' | 'after-outputs' | 'after-changelog';

export interface InMemoryTopologyOptions {
  partitions: number;
  config: CoreConfig;
  idleAfterMs?: number;
  prefix?: string;
  /** Wall clock of the simulation (punctuation compares it with event times). */
  nowMs?: number;
}

/**
 * The runtime's tasks over in-memory topics, for tests: records are appended to
 * partition logs (keyed records spread by a hash, as Kafka's partitioner does), each
 * task reads its partition from its committed offset, writes outputs then changelog, and
 * commits, as the Kafka runtime does. A crash drops a task's memory at a chosen point
 * and the task comes back from its changelog, re-reading from the committed offset.
 */
export function createInMemoryTopology(options: InMemoryTopologyOptions) {
  const topics = buildTopicNames(options.prefix ?? 'mem.');
  const metrics: RuntimeMetrics = createRuntimeMetrics();
  const topology: Topology = { topics, partitions: options.partitions, config: options.config, idleAfterMs: options.idleAfterMs ?? 0, metrics };
  const logs = new Map<string, IncomingRecord[][]>();
  const committed = new Map<string, number>();
  const tasks = new Map<string, Task>();
  let nowMs = options.nowMs ?? Date.parse('2100-01-01T00:00:00Z');
  let appended = 0;

  const id = (topic: string, partition: number) => `${topic}:${partition}`;

  function log(topic: string, partition: number): IncomingRecord[] {
    let partitions = logs.get(topic);
    if (partitions === undefined) logs.set(topic, (partitions = Array.from({ length: options.partitions }, () => [])));
    const l = partitions[partition];
    if (l === undefined) throw new Error(`${topic} has no partition ${partition}`);
    return l;
  }

  function append(record: OutgoingRecord): void {
    const partition = record.partition ?? partitionOf(record.key ?? '', options.partitions);
    const l = log(record.topic, partition);
    const headers = { ...(record.headers ?? {}) };
    const value = record.value === null ? null : Buffer.isBuffer(record.value) ? record.value : Buffer.from(record.value);
    l.push({ topic: record.topic, partition, offset: String(l.length), key: record.key, value, headers, timestamp: String(nowMs) });
    appended++;
  }

  function task(topic: string, partition: number): Task {
    const key = id(topic, partition);
    let t = tasks.get(key);
    if (t === undefined) {
      t = createTask(topology, topic, partition);
      const kind = taskKindOf(topics, topic)!;
      t.restore(log(changelogTopicOf(topics, kind), partition));
      t.finishRestore();
      tasks.set(key, t);
    }
    return t;
  }

  function write(t: Task, crash: CrashPoint | undefined): boolean {
    if (crash === 'before-writes') return false;
    for (const r of t.takeOutputs()) append(r);
    if (crash === 'after-outputs') return false;
    for (const r of t.takeChangelog()) append(r);
    return crash !== 'after-changelog';
  }

  return {
    topics,
    metrics,

    /** Publishes events keyed as the collector does; `partition` pins one (default: by key). */
    publish(events: readonly CanonicalEvent[], partition?: number): void {
      for (const event of events) {
        append({ topic: topics.events, key: kafkaKeyOf(event), value: JSON.stringify(event), ...(partition === undefined ? {} : { partition }) });
      }
    },

    publishRaw(record: Omit<OutgoingRecord, 'topic'> & { topic?: string }): void {
      append({ topic: topics.events, ...record });
    },

    partitionOf: (key: string) => partitionOf(key, options.partitions),

    /** Moves the simulated wall clock on. */
    advance(ms: number): void {
      nowMs += ms;
    },

    /** Input records of a task not yet committed. */
    pending(topic: string, partition: number): number {
      return log(topic, partition).length - (committed.get(id(topic, partition)) ?? 0);
    },

    /** Every (input topic, partition) with uncommitted records. */
    busy(): Array<{ topic: string; partition: number; pending: number }> {
      const list: Array<{ topic: string; partition: number; pending: number }> = [];
      for (const topic of inputTopicsOf(topics)) {
        for (let p = 0; p < options.partitions; p++) {
          const pending = this.pending(topic, p);
          if (pending > 0) list.push({ topic, partition: p, pending });
        }
      }
      return list;
    },

    /** One consumer batch of up to `maxRecords`: apply, write outputs, write changelog, commit. */
    deliver(topic: string, partition: number, maxRecords: number, crash?: CrashPoint): void {
      const key = id(topic, partition);
      const from = committed.get(key) ?? 0;
      const records = log(topic, partition).slice(from, from + maxRecords);
      if (records.length === 0) return;
      const t = task(topic, partition);
      t.handleBatch(records, nowMs);
      if (write(t, crash)) committed.set(key, from + records.length);
      else tasks.delete(key);
    },

    punctuate(topic: string, partition: number, idleForMs: number, crash?: CrashPoint): void {
      const t = task(topic, partition);
      t.punctuate(nowMs, { idleForMs, caughtUp: this.pending(topic, partition) === 0 });
      if (!write(t, crash)) tasks.delete(id(topic, partition));
    },

    /** Every task's memory dropped, as a processor restart does; tasks made after it use `config` when given. */
    restart(config?: CoreConfig): void {
      tasks.clear();
      if (config !== undefined) topology.config = config;
    },

    /** Drops a task's memory (a kill between units of work). */
    kill(topic: string, partition: number): void {
      tasks.delete(id(topic, partition));
    },

    /** Punctuates every task as idle and delivers until nothing moves. */
    settle(maxRounds = 1_000): void {
      for (let round = 0; round < maxRounds; round++) {
        const before = appended;
        for (const { topic, partition, pending } of this.busy()) this.deliver(topic, partition, pending);
        for (const topic of inputTopicsOf(topics)) {
          for (let p = 0; p < options.partitions; p++) this.punctuate(topic, p, Number.MAX_SAFE_INTEGER);
        }
        if (appended === before && this.busy().length === 0) return;
      }
      throw new Error('topology did not settle');
    },

    /** How many records were written to any topic so far. */
    written(): number {
      return appended;
    },

    /** Rewrites every record of a topic in place (a changelog as an older version wrote it, say). */
    rewrite(topic: string, change: (record: IncomingRecord) => IncomingRecord): void {
      for (const partition of logs.get(topic) ?? []) partition.splice(0, partition.length, ...partition.map(change));
    },

    records(topic: string): IncomingRecord[] {
      return (logs.get(topic) ?? []).flat();
    },

    /** The newest revision of each finding on the findings topic. */
    findings(): Map<string, Finding> {
      return latestFindings(this.records(topics.findings));
    },

    status(): Array<Record<string, unknown>> {
      return [...tasks.values()].map((t) => t.status());
    },
  };
}

export type InMemoryTopology = ReturnType<typeof createInMemoryTopology>;

/** The newest revision per finding id (the later record wins a tie). */
export function latestFindings(records: readonly IncomingRecord[]): Map<string, Finding> {
  const latest = new Map<string, Finding>();
  for (const record of records) {
    if (record.value === null) continue;
    const finding = Finding.parse(JSON.parse(record.value.toString('utf8')));
    const current = latest.get(finding.id);
    if (current === undefined || finding.revision >= current.revision) latest.set(finding.id, finding);
  }
  return latest;
}

/** FNV-1a: any stable spread will do for the simulation. */
function partitionOf(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}
