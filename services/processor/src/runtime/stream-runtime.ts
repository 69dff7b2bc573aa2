import {
  type BatchContext,
  type CompactedRecord,
  type Consumer,
  type IncomingRecord,
  type OutgoingRecord,
  type PartitionReader,
  type Producer,
  type TopicPartition,
  restoreCompacted,
} from '@calwatch/kafka';
import type { Logger } from '@calwatch/runtime';
import { PROCESSOR_ERRORS } from '../errors';
import { TaskLock } from './task-lock';
import type { StoreSize } from './state-entries';
import type { PunctuateContext, Task, TaskKind } from './task';
import { type Topology, changelogTopicOf, createTask, inputTopicsOf, taskKindOf } from './topology';

/** Where each partition of a topic stands: log start and end, and the group's committed offset. */
export interface PartitionProgress {
  partition: number;
  start: bigint;
  end: bigint;
  /** -1 when the group never committed. */
  committed: bigint;
}

export interface OffsetSource {
  progress(topic: string): Promise<PartitionProgress[]>;
}

export interface StreamRuntimeOptions {
  topology: Topology;
  producer: Producer;
  reader: PartitionReader;
  /** Log ends and committed offsets, read at each punctuation to tell idle partitions from unread ones. */
  offsets: OffsetSource;
  /**
   * The group consumer's offsets, which the runtime commits: it is started with autoCommit
   * false, since an offset may be committed only once the changelog holds what was applied.
   */
  offsetCommits: Pick<Consumer, 'commit' | 'seek'>;
  /**
   * Longest wall-clock time a task keeps applied input out of its changelog while it is
   * behind its partition's end (a bulk load): a key changed in many batches meanwhile is
   * written once. A task that reaches the end of its partition flushes at once. 0 flushes
   * after every batch.
   */
  commitIntervalMs: number;
  logger: Logger;
  /** Wall clock (tests pass their own). */
  now?: () => number;
  /** How often a long restore logs its progress. */
  restoreLogIntervalMs?: number;
}

/** What the metrics show of one task: its state's size and its last restore. */
export interface TaskMetrics {
  /** `topic:partition`. */
  task: string;
  stores: StoreSize[];
  /** The restore that created the task: how long the changelog read took, and its records. */
  restore: { seconds: number; records: number };
}

export interface StreamRuntime {
  /** The group started a rebalance: no punctuation writes until the new assignment is known. */
  onRebalance(): void;
  /** The consumer's new assignment: drop tasks no longer ours, restore the new ones. */
  onAssignment(assigned: readonly TopicPartition[]): Promise<void>;
  /** One batch of one input partition: apply, write outputs, write the changelog. */
  handleBatch(records: readonly IncomingRecord[], context: BatchContext): Promise<void>;
  /** Wall-clock work on every task (idle partitions release what they hold); skips busy tasks. */
  punctuate(): Promise<void>;
  tasks(): Array<Record<string, unknown>>;
  taskMetrics(): TaskMetrics[];
  /** Waits for work in flight and forgets every task. */
  close(): Promise<void>;
}

interface Entry {
  task: Task;
  lock: TaskLock;
  lastInputAt: number;
  /** The next offset this task reads (unknown until its first batch: the committed one). */
  position: bigint | undefined;
  /**
   * The first offset applied since the changelog last caught up with the state (undefined:
   * nothing outstanding). A task that loses its memory before the next flush must read
   * again from here: the consumer is past it, the changelog is not.
   */
  unflushedFrom: bigint | undefined;
  /** Wall clock of the last changelog flush (or of the restore). */
  flushedAt: number;
  /**
   * The task's last output send, settled (it never rejects): the next batch is applied while
   * the broker acknowledges it, and awaited before the task's next send or flush.
   */
  outputsSent: Promise<void>;
  /** Why that send failed, until the task is forgotten for it. */
  outputsFailed: unknown;
  restore: { seconds: number; records: number };
}

const taskId = (topic: string, partition: number) => `${topic}:${partition}`;

/** Records applied between two turns of the event loop. */
const APPLY_SLICE = 250;

/** Hands a changelog batch to the tasks of its partitions, in one call when it is one partition's (the usual case). */
function restoreBatch(byPartition: ReadonlyMap<number, Task>, batch: readonly CompactedRecord[]): void {
  const first = batch[0];
  if (first === undefined) return;
  let onePartition = true;
  for (const record of batch) {
    if (record.partition !== first.partition) {
      onePartition = false;
      break;
    }
  }
  if (onePartition) byPartition.get(first.partition)?.restore(batch);
  else for (const record of batch) byPartition.get(record.partition)?.restore([record]);
}

/**
 * Runs the tasks of the partitions this instance is assigned, on Kafka. Per batch: apply ->
 * send the outputs (the next batch is applied while the broker acknowledges them). When a
 * flush is due (the task reached its partition's end, or held changes for the commit
 * interval): outputs acknowledged -> changed states, buffer entries and task meta to the
 * changelog partition (acknowledged) -> commit the input offset. A crash anywhere repeats
 * work but loses nothing: a restored task skips input it already applied, and a repeated
 * finding update is the same record again (same id, revision and content).
 */
export function createStreamRuntime(options: StreamRuntimeOptions): StreamRuntime {
  const { topology, producer, reader, logger } = options;
  const now = options.now ?? Date.now;
  const topics = topology.topics;
  const entries = new Map<string, Entry>();
  const restoring = new Map<string, Promise<Entry>>();
  let assignment: TopicPartition[] = [];
  let sending: Promise<void> = Promise.resolve();
  let punctuation: Promise<void> | undefined;
  let closed = false;
  /** Between the start of a rebalance and the new assignment, tasks may already be someone else's. */
  let suspended = false;

  /** One send at a time: the idempotent producer keeps per-partition order only then. */
  function send(records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    topology.metrics.sends++;
    const next = sending.then(() => producer.send(records));
    sending = next.catch(() => undefined);
    return next;
  }

  /**
   * Brings the task's changelog partition up to its state, then commits the input offset
   * that state has applied. A failed commit is harmless: the changelog is ahead of it, and
   * a restored task skips what it already applied.
   */
  async function flush(entry: Entry, at: number): Promise<void> {
    await outputsAcknowledged(entry);
    const changelog = entry.task.takeChangelog();
    topology.metrics.changelogRecords += changelog.length;
    await send(changelog);
    entry.flushedAt = at;
    const from = entry.unflushedFrom;
    entry.unflushedFrom = undefined;
    if (from === undefined || entry.position === undefined) return;
    const { topic, partition } = entry.task;
    try {
      await options.offsetCommits.commit([{ topic, partition, offset: entry.position.toString() }]);
      topology.metrics.commits++;
    } catch (error) {
      logger.warn({ err: error, task: entry.task.source }, 'offset not committed; the changelog has the state, records read again are skipped');
    }
  }

  /**
   * Sends a unit of work's outputs without waiting for the broker: the task goes on with its
   * next batch meanwhile. One send per task is in flight at a time (sendOutputs first waits
   * for the one before), which bounds what a slow broker leaves in memory.
   */
  async function sendOutputs(entry: Entry, outputs: readonly OutgoingRecord[]): Promise<void> {
    await outputsAcknowledged(entry);
    entry.outputsSent = send(outputs).catch((error: unknown) => {
      entry.outputsFailed ??= error;
    });
  }

  /**
   * Waits for the task's output send in flight; throws if it failed. Outputs must be
   * acknowledged before the changelog says their input was applied, or a crash would lose them.
   */
  async function outputsAcknowledged(entry: Entry): Promise<void> {
    await entry.outputsSent;
    if (entry.outputsFailed !== undefined) throw entry.outputsFailed;
  }

  /** Is a flush due: the task reached its partition's end, or held its changes long enough. */
  function flushDue(entry: Entry, at: number, caughtUp: boolean): boolean {
    return caughtUp || at - entry.flushedAt >= options.commitIntervalMs;
  }

  /**
   * Forgets a task whose memory is ahead of its changelog (a write failed) and rewinds its
   * partition to the first offset the changelog does not have: the task is restored and
   * reads that input again.
   */
  function forget(entry: Entry): void {
    drop(entry);
    const from = entry.unflushedFrom;
    if (from !== undefined) options.offsetCommits.seek({ topic: entry.task.topic, partition: entry.task.partition, offset: from.toString() });
  }

  function reportProblems(task: Task): void {
    for (const problem of task.takeProblems()) logger.error({ task: task.source, ...problem }, 'task problem');
  }

  /** Creates the tasks of these partitions from their changelogs, one read per changelog topic. */
  async function restore(partitions: readonly TopicPartition[]): Promise<void> {
    const groups = new Map<string, Array<{ tp: TopicPartition; kind: TaskKind }>>();
    for (const tp of partitions) {
      const kind = taskKindOf(topics, tp.topic);
      if (kind === undefined) continue;
      const changelog = changelogTopicOf(topics, kind);
      const list = groups.get(changelog) ?? [];
      list.push({ tp, kind });
      groups.set(changelog, list);
    }
    // The changelogs are read at once: the restore's time is its wall time, counted once.
    const restoreStarted = now();
    const reads = Promise.all(
      [...groups].map(async ([changelog, list]) => {
        const started = now();
        const byPartition = new Map<number, Task>();
        for (const { tp } of list) byPartition.set(tp.partition, createTask(topology, tp.topic, tp.partition));
        const ids = list.map(({ tp }) => taskId(tp.topic, tp.partition));
        // One read per changelog; a failed read fails these tasks and their next batch retries.
        const pending = restoreCompacted({
          reader,
          topic: changelog,
          partitions: [...byPartition.keys()],
          onRecords: (batch) => restoreBatch(byPartition, batch),
          describeFailure: (error) =>
            PROCESSOR_ERRORS.create('PROCESSOR_RESTORE_FAILED', `reading ${changelog} failed: ${error instanceof Error ? error.message : String(error)}`, {
              cause: error,
              context: { changelog },
            }),
          progress: {
            intervalMs: options.restoreLogIntervalMs ?? 5_000,
            onProgress: (records, ms) => logger.info({ changelog, records, ms }, 'restoring state'),
          },
          now,
        });
        const done = pending.then(({ records }) => {
          // The tasks of one changelog are read together: each took the whole read.
          const seconds = (now() - started) / 1000;
          let keys = 0;
          let buffered = 0;
          for (const task of byPartition.values()) {
            const summary = task.finishRestore();
            // The partition moved away while its changelog was read.
            if (!assignment.some((tp) => taskId(tp.topic, tp.partition) === task.source)) continue;
            keys += summary.keys;
            buffered += summary.buffered;
            for (const problem of summary.problems) logger.error({ task: task.source, ...problem }, 'changelog record left out');
            const restore = { seconds, records: summary.records };
            entries.set(task.source, { task, lock: new TaskLock(), lastInputAt: now(), position: undefined, unflushedFrom: undefined, flushedAt: now(), outputsSent: Promise.resolve(), outputsFailed: undefined, restore });
          }
          const ms = now() - started;
          topology.metrics.restoredTasks += byPartition.size;
          topology.metrics.restoredRecords += records;
          logger.info({ changelog, partitions: [...byPartition.keys()], records, keys, buffered, ms }, 'state restored');
        });
        for (const id of ids) {
          const one = done.then(() => entries.get(id)!);
          one.catch(() => undefined);
          restoring.set(id, one);
        }
        try {
          await done;
        } finally {
          for (const id of ids) restoring.delete(id);
        }
      }),
    );
    try {
      await reads;
    } finally {
      topology.metrics.restoreMs += now() - restoreStarted;
    }
  }

  /** The task of a partition, restored now if an earlier restore failed or it was dropped. */
  async function ensure(topic: string, partition: number): Promise<Entry> {
    const id = taskId(topic, partition);
    const existing = entries.get(id);
    if (existing !== undefined) return existing;
    const inFlight = restoring.get(id);
    if (inFlight !== undefined) return inFlight;
    await restore([{ topic, partition }]);
    const entry = entries.get(id);
    if (entry === undefined) throw PROCESSOR_ERRORS.create('PROCESSOR_RESTORE_FAILED', `${id} is not assigned to this instance (any more)`);
    return entry;
  }

  type Progress = { partitions: Map<string, PartitionProgress> } | undefined;

  const readFrom = (p: PartitionProgress) => (p.committed > p.start ? p.committed : p.start);

  /** The log ends and committed offsets of the input topics, read before any task is looked at. */
  async function readProgress(): Promise<Progress> {
    try {
      const all = await Promise.all(inputTopicsOf(topics).map(async (topic) => ({ topic, list: await options.offsets.progress(topic) })));
      const partitions = new Map<string, PartitionProgress>();
      for (const { topic, list } of all) for (const p of list) partitions.set(taskId(topic, p.partition), p);
      return { partitions };
    } catch (error) {
      logger.warn({ err: error }, 'could not read offsets; idle partitions wait for the next punctuation');
      return undefined;
    }
  }

  function contextOf(entry: Entry, at: number, progress: Progress): PunctuateContext {
    const idleForMs = at - entry.lastInputAt;
    if (progress === undefined) return { idleForMs, caughtUp: false };
    const own = progress.partitions.get(entry.task.source);
    const caughtUp = own !== undefined && (entry.position ?? readFrom(own)) >= own.end;
    return { idleForMs, caughtUp };
  }

  function drop(entry: Entry): void {
    if (entries.get(entry.task.source) === entry) entries.delete(entry.task.source);
  }

  return {
    onRebalance() {
      suspended = true;
    },

    async onAssignment(assigned) {
      suspended = false;
      assignment = assigned.filter((tp) => taskKindOf(topics, tp.topic) !== undefined);
      const wanted = new Set(assignment.map((tp) => taskId(tp.topic, tp.partition)));
      for (const entry of [...entries.values()]) {
        if (wanted.has(entry.task.source)) continue;
        // Work in flight on a partition that moved away finishes (or finds itself stale) first.
        await entry.lock.run(async () => drop(entry));
      }
      const fresh = assigned.filter((tp) => wanted.has(taskId(tp.topic, tp.partition)) && !entries.has(taskId(tp.topic, tp.partition)));
      logger.info({ assigned: assigned.length, kept: wanted.size - fresh.length, restoring: fresh.length }, 'assignment');
      try {
        await restore(fresh);
      } catch (error) {
        // The first batch of each task not restored tries again.
        logger.error({ err: error }, 'restore failed; retrying with the next batch');
      }
    },

    async handleBatch(records, context) {
      // Stopping: what is not committed is read again by the partition's next owner.
      if (closed) return;
      const entry = await ensure(context.topic, context.partition);
      await entry.lock.run(async () => {
        if (closed) return;
        if (entries.get(entry.task.source) !== entry) {
          throw PROCESSOR_ERRORS.create('PROCESSOR_RESTORE_FAILED', `${entry.task.source} was dropped while its batch waited; the batch is re-delivered`);
        }
        const first = records[0];
        const last = records.at(-1);
        if (first === undefined || last === undefined) return;
        const at = now();
        topology.metrics.batches++;
        entry.unflushedFrom ??= BigInt(first.offset);
        // In slices, giving the event loop a turn between them: the consumer's heartbeats
        // must go out while a large batch is applied, or the group drops this member.
        for (let i = 0; i < records.length; i += APPLY_SLICE) {
          if (i > 0) await new Promise((resolve) => setImmediate(resolve));
          entry.task.handleBatch(records.slice(i, i + APPLY_SLICE), at);
        }
        entry.lastInputAt = at;
        entry.position = BigInt(last.offset) + 1n;
        const outputs = entry.task.takeOutputs();
        reportProblems(entry.task);
        if (context.isStale()) {
          // The partition moved away: its new owner restores from the changelog.
          drop(entry);
          return;
        }
        try {
          await sendOutputs(entry, outputs);
          if (flushDue(entry, at, entry.position >= BigInt(context.highWatermark))) await flush(entry, at);
        } catch (error) {
          // Memory is ahead of the changelog now (this batch's outputs or an earlier one's
          // failed, or the changelog's): forget it; the partition is read again from the first
          // record the changelog lacks, into a restored task.
          forget(entry);
          throw error;
        }
      });
    },

    punctuate() {
      if (closed || suspended || punctuation !== undefined) return punctuation ?? Promise.resolve();
      punctuation = (async () => {
        // A task dropped after a failed write comes back here even when its input is quiet.
        for (const tp of assignment) {
          if (closed) return;
          if (entries.has(taskId(tp.topic, tp.partition))) continue;
          try {
            await ensure(tp.topic, tp.partition);
          } catch (error) {
            logger.warn({ err: error, task: taskId(tp.topic, tp.partition) }, 'restore failed; retrying');
          }
        }
        const progress = await readProgress();
        for (const entry of [...entries.values()]) {
          if (closed || suspended) break;
          if (entry.lock.busy) continue;
          await entry.lock.run(async () => {
            if (entries.get(entry.task.source) !== entry || suspended) return;
            const at = now();
            const context = contextOf(entry, at, progress);
            entry.task.punctuate(at, context);
            const outputs = entry.task.takeOutputs();
            reportProblems(entry.task);
            const changelogBefore = topology.metrics.changelogRecords;
            try {
              await sendOutputs(entry, outputs);
              // The task releases only when caught up, so what it released is flushed here too.
              if (flushDue(entry, at, context.caughtUp)) await flush(entry, at);
            } catch (error) {
              forget(entry);
              logger.warn({ err: error, task: entry.task.source }, 'punctuation not written; the task restores on its next batch');
            }
            if (outputs.length > 0 || topology.metrics.changelogRecords > changelogBefore) topology.metrics.punctuationsWritten++;
          });
        }
      })().finally(() => {
        punctuation = undefined;
      });
      return punctuation;
    },

    tasks() {
      return [...entries.values()].map((e) => e.task.status());
    },

    taskMetrics() {
      return [...entries.values()].map((e) => ({ task: e.task.source, stores: e.task.stateSizes(), restore: e.restore }));
    },

    async close() {
      closed = true;
      assignment = [];
      await punctuation;
      // Every task's changes go to its changelog and its offset is committed while this
      // instance is still in the group: the next owner starts where this one stopped.
      for (const entry of [...entries.values()]) {
        await entry.lock.run(async () => {
          if (entries.get(entry.task.source) !== entry) return;
          try {
            await sendOutputs(entry, entry.task.takeOutputs());
            await flush(entry, now());
          } catch (error) {
            logger.warn({ err: error, task: entry.task.source }, 'state not written on close; the next owner reads the input again');
          }
          drop(entry);
        });
      }
      await sending;
    },
  };
}
