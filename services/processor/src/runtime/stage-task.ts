import type { IncomingRecord, OutgoingRecord } from '@calwatch/shared';
import type { CoreConfig } from '../core/index';
import { MinHeap } from '../core/min-heap';
import { BufferLog, BufferedMessage, META_KEY, type SourceProgress, TaskMeta, buildChangelogRecord, buildMessageBufferKey, isBufferKey } from './changelog';
import { OutputEmitter, type OutputTopics } from './emitter';
import {
  HEADER_KIND,
  type DeadLetterDraft,
  Watermark,
  buildDeadLetterRecord,
  buildSourceId,
  buildWatermarkRecords,
  draftFromRecord,
  parseJson,
  readOrderHeaders,
  zodIssues,
} from './internal-records';
import { KeyedStore } from './keyed-store';
import { restoreState } from './restore-state';
import type { RuntimeMetrics } from './metrics';
import { type OrderKey, buildTickOrder, compareOrderKeys, isAfter } from './order-key';
import { createStageAdapter, type StageAdapter } from './stage-adapters';
import type { PunctuateContext, RestoreSummary, Task, TaskFlush, TaskProblem } from './task';

export interface StageTaskOptions {
  stage: 'by-computer' | 'by-server';
  /** The repartition topic and this task's partition of it. */
  topic: string;
  partition: number;
  outputs: OutputTopics;
  changelogTopic: string;
  /** Every upstream task (`topic:partition`) whose watermark this task waits for. */
  upstream: readonly string[];
  /** Where this task's own watermarks go (by-computer: every by-server partition); null: nowhere. */
  downstream: { topic: string; partitions: number } | null;
  config: CoreConfig;
  metrics: RuntimeMetrics;
}

type Bound = { kind: 'none' } | { kind: 'below'; at: number } | { kind: 'all'; timersUpTo: number | null };

/**
 * A partition of a repartition topic (by-computer or by-server). Messages from many
 * upstream partitions arrive with their place in the pipeline's order (event time +
 * tie-break); the task buffers them and applies them in that order, interleaved with
 * its own timers, up to the smallest watermark of the upstream tasks that are not idle
 * (all idle: everything). Repeats from an upstream task that redid work after a crash
 * are dropped; messages behind what was already applied (an idle source came back) are
 * applied on arrival and counted.
 */
export class StageTask implements Task {
  readonly kind: 'by-computer' | 'by-server';
  readonly topic: string;
  readonly partition: number;
  readonly source: string;

  private readonly stage: StageAdapter;
  private readonly store: KeyedStore;
  private readonly emitter: OutputEmitter;
  private readonly buffer = new MinHeap<BufferedMessage>((a, b) => compareOrderKeys(a.key, b.key) < 0);
  private readonly bufferLog = new BufferLog<BufferedMessage>();
  private readonly sources = new Map<string, SourceProgress>();
  private readonly upstream: ReadonlySet<string>;

  private cursor: OrderKey | null = null;
  private releasedUpTo: number | null = null;
  private lastOffset: bigint | null = null;
  private metaDirty = false;
  private watermarkSent: { at: number | null; idle: boolean } | null = null;
  /** Everything was released with every source idle, and nothing came since. */
  private drained = false;

  private pendingOutputs: OutgoingRecord[] = [];
  private problems: TaskProblem[] = [];
  private restoring: { records: number; meta: TaskMeta | null; buffer: Map<string, BufferedMessage>; problems: TaskProblem[] } | null = null;

  constructor(private readonly options: StageTaskOptions) {
    this.kind = options.stage;
    this.topic = options.topic;
    this.partition = options.partition;
    this.source = buildSourceId(options.topic, options.partition);
    this.stage = createStageAdapter(options.stage, options.config);
    this.store = new KeyedStore(this.stage);
    this.emitter = new OutputEmitter(options.outputs, this.source, options.metrics);
    this.upstream = new Set(options.upstream);
  }

  handleBatch(records: readonly IncomingRecord[], nowMs: number): void {
    for (const record of records) this.handleRecord(record, nowMs);
    this.forwardWatermark();
  }

  punctuate(nowMs: number, context: PunctuateContext): void {
    // Only here may idle sources be passed over, and only those with nothing left to read,
    // once this task has read what they wrote before going quiet.
    if (context.caughtUp) this.release(nowMs, context.settledSources);
    this.forwardWatermark();
  }

  private handleRecord(record: IncomingRecord, nowMs: number): void {
    const m = this.options.metrics;
    m.records++;
    const offset = BigInt(record.offset);
    if (this.lastOffset !== null && offset <= this.lastOffset) {
      m.replayedRecords++;
      return;
    }
    this.lastOffset = offset;
    this.metaDirty = true;

    const json = parseJson(record.value);
    if (!json.ok) return this.deadLetter(draftFromRecord(record, 'PROCESSOR_RECORD_NOT_JSON', json.reason), nowMs);
    if (record.headers[HEADER_KIND] === 'watermark') {
      const watermark = Watermark.safeParse(json.value);
      if (!watermark.success) {
        return this.deadLetter(
          draftFromRecord(record, 'PROCESSOR_INTERNAL_MESSAGE_INVALID', 'watermark failed its schema', zodIssues(watermark.error)),
          nowMs,
        );
      }
      m.watermarksIn++;
      const { source, at, idle } = watermark.data;
      this.sources.set(source, { at, idle, lastKey: this.sources.get(source)?.lastKey ?? null });
      if (!idle) this.drained = false;
      this.release(nowMs);
      return;
    }

    const headers = readOrderHeaders(record);
    if (!headers.ok) return this.deadLetter(draftFromRecord(record, 'PROCESSOR_INTERNAL_MESSAGE_INVALID', headers.reason), nowMs);
    if (record.key === null) return this.deadLetter(draftFromRecord(record, 'PROCESSOR_INTERNAL_MESSAGE_INVALID', 'message without a key'), nowMs);
    const decoded = this.stage.decodeMessage(json.value);
    if (!decoded.ok) {
      return this.deadLetter(
        draftFromRecord(record, 'PROCESSOR_INTERNAL_MESSAGE_INVALID', `message failed the ${this.stage.name} message schema`, zodIssues(decoded.error)),
        nowMs,
      );
    }
    const { key, source } = headers;
    const progress = this.sources.get(source) ?? { at: null, idle: false, lastKey: null };
    // Each source sends in increasing key order: what is not after its last key was seen before.
    if (progress.lastKey !== null && !isAfter(key, progress.lastKey)) {
      m.duplicates++;
      return;
    }
    this.sources.set(source, { ...progress, lastKey: key });
    const entry: BufferedMessage = { source, key, stateKey: record.key, message: decoded.message };
    if (this.cursor !== null && !isAfter(key, this.cursor)) {
      m.lateApplied++;
      this.apply(entry, nowMs);
      return;
    }
    this.buffer.push(entry);
    this.bufferLog.add(buildMessageBufferKey(source, key), entry);
    this.drained = false;
    this.release(nowMs);
  }

  /**
   * How far this task may go: below the smallest watermark of its sources, idle ones
   * included (an idle source promises nothing earlier than its watermark); given the
   * settled sources, below the smallest of the others, and everything when all are idle
   * and settled. Until every source was heard from, nowhere.
   */
  private bound(settled?: ReadonlySet<string>): Bound {
    let min: number | null = null;
    let max: number | null = null;
    let passed = 0;
    for (const source of this.upstream) {
      const progress = this.sources.get(source);
      if (progress === undefined) return { kind: 'none' };
      if (progress.at !== null && (max === null || progress.at > max)) max = progress.at;
      if (progress.idle && settled?.has(source) === true) {
        passed++;
        continue;
      }
      if (progress.at === null) return { kind: 'none' };
      if (min === null || progress.at < min) min = progress.at;
    }
    if (passed === this.upstream.size) return { kind: 'all', timersUpTo: max };
    return { kind: 'below', at: min! };
  }

  private release(nowMs: number, settled?: ReadonlySet<string>): void {
    const bound = this.bound(settled);
    if (bound.kind === 'none') return;
    for (;;) {
      const message = this.buffer.peek();
      const timer = this.store.peekTimer();
      const timerKey: OrderKey | null = timer === undefined ? null : { at: timer.at, order: buildTickOrder(this.stage.rank, timer.key) };
      let messageOk: boolean;
      let timerOk: boolean;
      if (bound.kind === 'below') {
        messageOk = message !== undefined && message.key.at < bound.at;
        timerOk = timerKey !== null && timerKey.at < bound.at;
      } else {
        messageOk = message !== undefined;
        timerOk =
          timerKey !== null &&
          (message !== undefined ? compareOrderKeys(timerKey, message.key) < 0 : bound.timersUpTo !== null && timerKey.at <= bound.timersUpTo);
      }
      if (messageOk && timerOk) {
        if (compareOrderKeys(timerKey!, message!.key) < 0) messageOk = false;
        else timerOk = false;
      }
      if (messageOk) {
        this.buffer.pop();
        this.bufferLog.remove(buildMessageBufferKey(message!.source, message!.key));
        this.apply(message!, nowMs);
        this.cursor = message!.key;
      } else if (timerOk) {
        this.store.takeTimer(timer!);
        this.fire(timer!.key, timerKey!);
        this.cursor = timerKey;
      } else {
        break;
      }
    }
    // Everything before this point is done: a message arriving behind it is late.
    const point: OrderKey | null =
      bound.kind === 'below'
        ? { at: bound.at, order: '' }
        : bound.timersUpTo === null
          ? null
          : { at: bound.timersUpTo, order: `0${this.stage.rank + 1}` };
    if (point !== null && isAfter(point, this.cursor)) {
      this.cursor = point;
      this.metaDirty = true;
    }
    const releasedUpTo = bound.kind === 'below' ? bound.at : bound.timersUpTo;
    if (releasedUpTo !== null && (this.releasedUpTo === null || releasedUpTo > this.releasedUpTo)) {
      this.releasedUpTo = releasedUpTo;
      this.metaDirty = true;
    }
    if (bound.kind === 'all') this.drained = true;
  }

  private apply(entry: BufferedMessage, nowMs: number): void {
    this.options.metrics.steps++;
    try {
      const result = this.stage.process(entry.stateKey, entry.message, this.store.get(entry.stateKey));
      this.store.put(entry.stateKey, result.state);
      this.emitter.emit(entry.key, result.outputs, this.pendingOutputs);
    } catch (error) {
      this.deadLetter(
        {
          location: { topic: this.topic, partition: this.partition, offset: null },
          key: entry.stateKey,
          value: Buffer.from(JSON.stringify(entry.message)),
          code: 'PROCESSOR_STAGE_FAILED',
          reason: `${this.stage.name} failed on a message from ${entry.source}: ${describe(error)}`,
        },
        nowMs,
      );
    }
  }

  private fire(key: string, orderKey: OrderKey): void {
    this.options.metrics.ticks++;
    this.options.metrics.steps++;
    try {
      const result = this.stage.process(key, { type: 'tick', at: orderKey.at }, this.store.get(key));
      this.store.put(key, result.state);
      this.emitter.emit(orderKey, result.outputs, this.pendingOutputs);
    } catch (error) {
      this.problems.push({ code: 'PROCESSOR_STAGE_FAILED', key, message: `${this.stage.name} tick at ${orderKey.at} failed: ${describe(error)}` });
    }
  }

  private deadLetter(draft: DeadLetterDraft, nowMs: number): void {
    this.options.metrics.deadLettered++;
    this.pendingOutputs.push(buildDeadLetterRecord(this.options.outputs.deadLetter, draft, nowMs));
  }

  /**
   * This task's own promise downstream: nothing it sends later is before what it released
   * up to; idle once its sources all went idle and it holds nothing.
   */
  private forwardWatermark(): void {
    const downstream = this.options.downstream;
    if (downstream === null || (this.releasedUpTo === null && !this.drained)) return;
    const at = this.releasedUpTo;
    const idle = this.drained && this.buffer.size === 0;
    if (this.watermarkSent !== null && this.watermarkSent.at === at && this.watermarkSent.idle === idle) return;
    this.pendingOutputs.push(...buildWatermarkRecords(downstream.topic, downstream.partitions, { type: 'watermark', source: this.source, at, idle }));
    this.options.metrics.watermarksOut += downstream.partitions;
    this.watermarkSent = { at, idle };
  }

  drain(): TaskFlush {
    const outputs = this.pendingOutputs;
    this.pendingOutputs = [];
    const changelog: OutgoingRecord[] = [];
    const topic = this.options.changelogTopic;
    for (const [key, state] of this.store.takeDirty()) changelog.push(buildChangelogRecord(topic, this.partition, key, state ?? null));
    this.bufferLog.drain(topic, this.partition, changelog);
    if (changelog.length > 0 || this.metaDirty || outputs.length > 0) {
      changelog.push(buildChangelogRecord(topic, this.partition, META_KEY, this.meta()));
      this.metaDirty = false;
    }
    return { outputs, changelog };
  }

  private meta(): TaskMeta {
    return {
      v: 1,
      lastOffset: this.lastOffset === null ? null : this.lastOffset.toString(),
      maxEventTime: null,
      releasedUpTo: this.releasedUpTo,
      cursor: this.cursor,
      lastEmitted: this.emitter.lastEmitted,
      sources: Object.fromEntries(this.sources),
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
        const entry = json.ok ? BufferedMessage.safeParse(json.value) : null;
        const message = entry?.success === true ? this.stage.decodeMessage(entry.data.message) : null;
        if (entry?.success === true && message?.ok === true) r.buffer.set(key, { ...entry.data, message: message.message });
        else r.problems.push({ code: 'PROCESSOR_CHANGELOG_RECORD_INVALID', key, message: 'buffered message failed its schema' });
      } else {
        restoreState(this.store, this.stage, key, record.value, r.problems);
      }
    }
  }

  finishRestore(): RestoreSummary {
    const r = this.restoring ?? { records: 0, meta: null, buffer: new Map<string, BufferedMessage>(), problems: [] };
    this.restoring = null;
    if (r.meta !== null) {
      this.lastOffset = r.meta.lastOffset === null ? null : BigInt(r.meta.lastOffset);
      this.releasedUpTo = r.meta.releasedUpTo;
      this.cursor = r.meta.cursor;
      this.emitter.lastEmitted = r.meta.lastEmitted;
      for (const [source, progress] of Object.entries(r.meta.sources)) this.sources.set(source, progress);
    }
    for (const [key, entry] of r.buffer) {
      this.bufferLog.markPersisted(key);
      this.buffer.push(entry);
    }
    this.store.scheduleAll();
    return { records: r.records, keys: this.store.size, buffered: this.buffer.size, problems: r.problems };
  }

  takeProblems(): TaskProblem[] {
    const problems = this.problems;
    this.problems = [];
    return problems;
  }

  status(): Record<string, unknown> {
    const bound = this.bound();
    return {
      task: this.source,
      keys: this.store.size,
      buffered: this.buffer.size,
      releasedUpTo: this.releasedUpTo,
      bound: bound.kind,
      waitingFor: [...this.upstream].filter((s) => this.sources.get(s) === undefined).length,
      lastOffset: this.lastOffset?.toString() ?? null,
    };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
