import { type IncomingRecord, MinHeap } from '@calwatch/shared';
import type { CoreConfig } from '../core/index';
import { BufferedMessage, type SourceProgress, buildMessageBufferKey } from './changelog';
import type { OutputTopics } from './emitter';
import { HEADER_KIND, Watermark, draftFromRecord, readOrderHeaders, zodIssues } from './internal-records';
import type { RuntimeMetrics } from './metrics';
import { type OrderKey, compareOrderKeys, isAfter } from './order-key';
import type { StageAdapter } from './stage-adapters';
import { TaskEngine, type WatermarkTarget } from './task-engine';
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

  private readonly engine: TaskEngine<BufferedMessage>;
  private readonly stage: StageAdapter;
  private readonly buffer = new MinHeap<BufferedMessage>((a, b) => compareOrderKeys(a.key, b.key) < 0);
  private readonly sources = new Map<string, SourceProgress>();
  private readonly upstream: ReadonlySet<string>;
  private readonly downstream: readonly WatermarkTarget[] | null;

  private cursor: OrderKey | null = null;
  private releasedUpTo: number | null = null;
  /** Everything was released with every source idle, and nothing came since. */
  private drained = false;

  constructor(private readonly options: StageTaskOptions) {
    this.kind = options.stage;
    this.topic = options.topic;
    this.partition = options.partition;
    this.engine = new TaskEngine({ ...options, buffered: { name: 'message', decode: decodeBufferedMessage } });
    this.source = this.engine.source;
    this.stage = this.engine.stage;
    this.upstream = new Set(options.upstream);
    this.downstream = options.downstream === null ? null : [options.downstream];
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
    const input = this.engine.admit(record, nowMs);
    if (input === null) return;
    if (record.headers[HEADER_KIND] === 'watermark') {
      const watermark = Watermark.safeParse(input.value);
      if (!watermark.success) {
        return this.engine.deadLetter(
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
    if (!headers.ok) return this.engine.deadLetter(draftFromRecord(record, 'PROCESSOR_INTERNAL_MESSAGE_INVALID', headers.reason), nowMs);
    if (record.key === null) return this.engine.deadLetter(draftFromRecord(record, 'PROCESSOR_INTERNAL_MESSAGE_INVALID', 'message without a key'), nowMs);
    const decoded = this.stage.decodeMessage(input.value);
    if (!decoded.ok) {
      return this.engine.deadLetter(
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
    this.engine.bufferLog.add(buildMessageBufferKey(source, key), entry);
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
      const timer = this.engine.store.peekTimer();
      const timerKey = timer === undefined ? null : this.engine.tickKey(timer);
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
        this.engine.bufferLog.remove(buildMessageBufferKey(message!.source, message!.key));
        this.apply(message!, nowMs);
        this.cursor = message!.key;
      } else if (timerOk) {
        this.engine.fire(timer!, timerKey!);
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
      this.engine.markMetaDirty();
    }
    const releasedUpTo = bound.kind === 'below' ? bound.at : bound.timersUpTo;
    if (releasedUpTo !== null && (this.releasedUpTo === null || releasedUpTo > this.releasedUpTo)) {
      this.releasedUpTo = releasedUpTo;
      this.engine.markMetaDirty();
    }
    if (bound.kind === 'all') this.drained = true;
  }

  private apply(entry: BufferedMessage, nowMs: number): void {
    this.engine.apply(entry.stateKey, entry.message, entry.key, nowMs, `a message from ${entry.source}`);
  }

  /**
   * This task's own promise downstream: nothing it sends later is before what it released
   * up to; idle once its sources all went idle and it holds nothing.
   */
  private forwardWatermark(): void {
    if (this.downstream === null || (this.releasedUpTo === null && !this.drained)) return;
    this.engine.sendWatermark(this.releasedUpTo, this.drained && this.buffer.size === 0, this.downstream);
  }

  drain(): TaskFlush {
    return this.engine.drain(() => ({ maxEventTime: null, releasedUpTo: this.releasedUpTo, cursor: this.cursor, sources: Object.fromEntries(this.sources) }));
  }

  restore(records: readonly IncomingRecord[]): void {
    this.engine.restore(records);
  }

  finishRestore(): RestoreSummary {
    const { records, meta, buffered, problems } = this.engine.finishRestore();
    if (meta !== null) {
      this.releasedUpTo = meta.releasedUpTo;
      this.cursor = meta.cursor;
      for (const [source, progress] of Object.entries(meta.sources)) this.sources.set(source, progress);
    }
    for (const entry of buffered) this.buffer.push(entry);
    return { records, keys: this.engine.store.size, buffered: this.buffer.size, problems };
  }

  takeProblems(): TaskProblem[] {
    return this.engine.takeProblems();
  }

  status(): Record<string, unknown> {
    const bound = this.bound();
    return {
      task: this.source,
      keys: this.engine.store.size,
      buffered: this.buffer.size,
      releasedUpTo: this.releasedUpTo,
      bound: bound.kind,
      waitingFor: [...this.upstream].filter((s) => this.sources.get(s) === undefined).length,
      lastOffset: this.engine.offset,
    };
  }
}

function decodeBufferedMessage(json: unknown, stage: StageAdapter): BufferedMessage | null {
  const entry = BufferedMessage.safeParse(json);
  const message = entry.success ? stage.decodeMessage(entry.data.message) : null;
  return entry.success && message?.ok === true ? { ...entry.data, message: message.message } : null;
}
