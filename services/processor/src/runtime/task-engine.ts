import type { IncomingRecord, OutgoingRecord } from '@calwatch/shared';
import type { CoreConfig } from '../core/index';
import { BufferLog, META_KEY, TaskMeta, buildChangelogRecord, isBufferKey } from './changelog';
import { OutputEmitter, type OutputTopics } from './emitter';
import { type DeadLetterDraft, buildDeadLetterRecord, buildSourceId, buildWatermarkRecords, draftFromRecord, parseJson } from './internal-records';
import { type DueTimer, KeyedStore } from './keyed-store';
import type { RuntimeMetrics } from './metrics';
import { type OrderKey, buildTickOrder } from './order-key';
import { restoreState } from './restore-state';
import { type StageAdapter, type StageName, createStageAdapter } from './stage-adapters';
import type { TaskFlush, TaskProblem } from './task';

export interface TaskEngineOptions<V> {
  stage: StageName;
  /** The input topic and the task's partition of it. */
  topic: string;
  partition: number;
  outputs: OutputTopics;
  changelogTopic: string;
  config: CoreConfig;
  metrics: RuntimeMetrics;
  /** What the task's buffer records hold, and how one read back is decoded (null: it fails its schema). */
  buffered: { name: string; decode(json: unknown, stage: StageAdapter): V | null };
}

/** The task's own part of its meta record; the engine adds the input offset and the last emitted key. */
export type TaskProgress = Pick<TaskMeta, 'maxEventTime' | 'releasedUpTo' | 'cursor' | 'sources'>;

/** A topic whose every partition hears a task's watermarks. */
export interface WatermarkTarget {
  topic: string;
  partitions: number;
}

/** What a restore leaves for the task to load: its meta (if any) and its buffered entries. */
export interface RestoredTask<V> {
  records: number;
  meta: TaskMeta | null;
  buffered: Iterable<V>;
  problems: TaskProblem[];
}

interface Restoring<V> {
  records: number;
  meta: TaskMeta | null;
  buffer: Map<string, V>;
  problems: TaskProblem[];
}

/**
 * What every task does alike around its own ordering: skipping input it applied before a
 * crash, stage steps and timers over its keyed store, dead letters, watermarks, and the
 * changelog (states, buffer entries, task meta) written and read back. The task decides
 * what to buffer, when to release it and what its watermarks promise.
 */
export class TaskEngine<V> {
  readonly source: string;
  readonly stage: StageAdapter;
  readonly store: KeyedStore;
  readonly bufferLog = new BufferLog<V>();

  private readonly emitter: OutputEmitter;
  private readonly metrics: RuntimeMetrics;
  private lastOffset: bigint | null = null;
  private metaDirty = false;
  private watermarkSent: { at: number | null; idle: boolean } | null = null;
  private pendingOutputs: OutgoingRecord[] = [];
  private problems: TaskProblem[] = [];
  private restoring: Restoring<V> | null = null;

  constructor(private readonly options: TaskEngineOptions<V>) {
    this.source = buildSourceId(options.topic, options.partition);
    this.stage = createStageAdapter(options.stage, options.config);
    this.store = new KeyedStore(this.stage);
    this.metrics = options.metrics;
    this.emitter = new OutputEmitter(options.outputs, this.source, options.metrics);
  }

  /** The offset of the last input record applied, as text (null: none yet). */
  get offset(): string | null {
    return this.lastOffset?.toString() ?? null;
  }

  /** Whether this incarnation has sent a watermark yet. */
  get hasSentWatermark(): boolean {
    return this.watermarkSent !== null;
  }

  /** The task's progress moved: the next drain writes its meta. */
  markMetaDirty(): void {
    this.metaDirty = true;
  }

  /**
   * Counts an input record and reads its JSON. Null when there is nothing more to do with
   * it: a re-delivery of a record already applied (skipped), or not JSON (dead-lettered).
   */
  admit(record: IncomingRecord, nowMs: number): { ok: true; value: unknown } | null {
    this.metrics.records++;
    const offset = BigInt(record.offset);
    if (this.lastOffset !== null && offset <= this.lastOffset) {
      this.metrics.replayedRecords++;
      return null;
    }
    this.lastOffset = offset;
    this.metaDirty = true;
    const json = parseJson(record.value);
    if (json.ok) return json;
    this.deadLetter(draftFromRecord(record, 'PROCESSOR_RECORD_NOT_JSON', json.reason), nowMs);
    return null;
  }

  deadLetter(draft: DeadLetterDraft, nowMs: number): void {
    this.metrics.deadLettered++;
    this.pendingOutputs.push(buildDeadLetterRecord(this.options.outputs.deadLetter, draft, nowMs));
  }

  /**
   * One stage step on `key`'s state, its outputs emitted under `orderKey`. A stage that
   * throws dead-letters the input (`what` names it in the reason); the state stays as it was.
   */
  apply(key: string, message: unknown, orderKey: OrderKey, nowMs: number, what: string): void {
    this.metrics.steps++;
    try {
      this.step(key, message, orderKey);
    } catch (error) {
      this.deadLetter(
        {
          location: { topic: this.options.topic, partition: this.options.partition, offset: null },
          key,
          value: Buffer.from(JSON.stringify(message)),
          code: 'PROCESSOR_STAGE_FAILED',
          reason: `${this.stage.name} failed on ${what}: ${describe(error)}`,
        },
        nowMs,
      );
    }
  }

  /** A timer's place in the pipeline's order. */
  tickKey(timer: DueTimer): OrderKey {
    return { at: timer.at, order: buildTickOrder(this.stage.rank, timer.key) };
  }

  /** Fires the store's next timer; a stage throwing on a tick has no record to dead-letter, so it is reported. */
  fire(timer: DueTimer, orderKey: OrderKey): void {
    this.store.takeTimer(timer);
    this.metrics.ticks++;
    this.metrics.steps++;
    try {
      this.step(timer.key, { type: 'tick', at: timer.at }, orderKey);
    } catch (error) {
      this.problems.push({ code: 'PROCESSOR_STAGE_FAILED', key: timer.key, message: `${this.stage.name} tick at ${timer.at} failed: ${describe(error)}` });
    }
  }

  private step(key: string, message: unknown, orderKey: OrderKey): void {
    const result = this.stage.process(key, message, this.store.get(key));
    this.store.put(key, result.state);
    this.emitter.emit(orderKey, result.outputs, this.pendingOutputs);
  }

  /** An input passed on as is to the stage that owns it. */
  forward(target: 'byComputer' | 'byServer', key: string, message: unknown, orderKey: OrderKey): void {
    this.emitter.forward(target, key, message, orderKey, this.pendingOutputs);
  }

  /** Sends the watermark to every partition of each target, unless it repeats the last one sent. */
  sendWatermark(at: number | null, idle: boolean, targets: readonly WatermarkTarget[]): void {
    if (this.watermarkSent !== null && this.watermarkSent.at === at && this.watermarkSent.idle === idle) return;
    const watermark = { type: 'watermark' as const, source: this.source, at, idle };
    for (const target of targets) {
      this.pendingOutputs.push(...buildWatermarkRecords(target.topic, target.partitions, watermark));
      this.metrics.watermarksOut += target.partitions;
    }
    this.watermarkSent = { at, idle };
  }

  /** Takes the outputs and the changelog writes since the last drain; the meta goes last, whenever anything changed. */
  drain(progress: () => TaskProgress): TaskFlush {
    const outputs = this.pendingOutputs;
    this.pendingOutputs = [];
    const changelog: OutgoingRecord[] = [];
    const { changelogTopic: topic, partition } = this.options;
    for (const [key, state] of this.store.takeDirty()) changelog.push(buildChangelogRecord(topic, partition, key, state ?? null));
    this.bufferLog.drain(topic, partition, changelog);
    if (changelog.length > 0 || this.metaDirty || outputs.length > 0) {
      changelog.push(buildChangelogRecord(topic, partition, META_KEY, this.meta(progress())));
      this.metaDirty = false;
    }
    return { outputs, changelog };
  }

  private meta(progress: TaskProgress): TaskMeta {
    return {
      v: 1,
      lastOffset: this.offset,
      maxEventTime: progress.maxEventTime,
      releasedUpTo: progress.releasedUpTo,
      cursor: progress.cursor,
      lastEmitted: this.emitter.lastEmitted,
      sources: progress.sources,
    };
  }

  restore(records: readonly IncomingRecord[]): void {
    this.restoring ??= { records: 0, meta: null, buffer: new Map(), problems: [] };
    const r = this.restoring;
    for (const record of records) {
      r.records++;
      const key = record.key;
      if (key === null) continue;
      if (key === META_KEY) {
        const json = parseJson(record.value);
        const meta = json.ok ? TaskMeta.safeParse(json.value) : null;
        if (meta?.success === true) r.meta = meta.data;
        else r.problems.push({ code: 'PROCESSOR_CHANGELOG_RECORD_INVALID', key, message: 'task meta failed its schema' });
      } else if (isBufferKey(key)) {
        if (record.value === null) {
          r.buffer.delete(key);
          continue;
        }
        const json = parseJson(record.value);
        const entry = json.ok ? this.options.buffered.decode(json.value, this.stage) : null;
        if (entry !== null) r.buffer.set(key, entry);
        else r.problems.push({ code: 'PROCESSOR_CHANGELOG_RECORD_INVALID', key, message: `buffered ${this.options.buffered.name} failed its schema` });
      } else {
        restoreState(this.store, this.stage, key, record.value, r.problems);
      }
    }
  }

  /** Ends a restore: loads the offset, the last emitted key, the states' timers and the buffer's changelog entries; the rest is the task's. */
  finishRestore(): RestoredTask<V> {
    const r = this.restoring ?? { records: 0, meta: null, buffer: new Map<string, V>(), problems: [] };
    this.restoring = null;
    if (r.meta !== null) {
      this.lastOffset = r.meta.lastOffset === null ? null : BigInt(r.meta.lastOffset);
      this.emitter.lastEmitted = r.meta.lastEmitted;
    }
    for (const key of r.buffer.keys()) this.bufferLog.markPersisted(key);
    this.store.scheduleAll();
    return { records: r.records, meta: r.meta, buffered: r.buffer.values(), problems: r.problems };
  }

  takeProblems(): TaskProblem[] {
    const problems = this.problems;
    this.problems = [];
    return problems;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
