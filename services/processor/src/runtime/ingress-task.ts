import {
  CanonicalEvent,
  type IncomingRecord,
  type OutgoingRecord,
  isLicenseLifecycleEvent,
  kafkaKeyOf,
} from '@calwatch/shared';
import { type CoreConfig, computerKey, isTooLate } from '../core/index';
import { MinHeap } from '../core/min-heap';
import { BufferLog, BufferedEvent, META_KEY, TaskMeta, buildChangelogRecord, buildEventBufferKey, isBufferKey } from './changelog';
import { OutputEmitter, type OutputTopics } from './emitter';
import {
  type DeadLetterDraft,
  buildDeadLetterRecord,
  buildSourceId,
  buildWatermarkRecords,
  draftFromRecord,
  parseJson,
  zodIssues,
} from './internal-records';
import { KeyedStore } from './keyed-store';
import { restoreState } from './restore-state';
import type { RuntimeMetrics } from './metrics';
import { type OrderKey, buildEventOrder, buildTickOrder } from './order-key';
import { type StageAdapter, createStageAdapter } from './stage-adapters';
import type { PunctuateContext, RestoreSummary, Task, TaskFlush, TaskProblem } from './task';

export interface IngressTaskOptions {
  /** The events topic and this task's partition of it. */
  topic: string;
  partition: number;
  outputs: OutputTopics;
  changelogTopic: string;
  /** Partition counts downstream: a watermark goes to every partition. */
  downstreamPartitions: { byComputer: number; byServer: number };
  config: CoreConfig;
  idleAfterMs: number;
  metrics: RuntimeMetrics;
}

interface Buffered {
  at: number;
  event: CanonicalEvent;
}

/**
 * A partition of the events topic. Decodes and screens each record, buffers events for
 * the allowed lateness and releases them in (event time, event id) order, firing the
 * by-hwid timers due before each, exactly as the in-process pipeline does. License events
 * run through by-hwid here (state in this task); client stores go on to by-computer,
 * key-pack and service events to by-server. Downstream hears its progress by watermarks.
 */
export class IngressTask implements Task {
  readonly kind = 'ingress' as const;
  readonly topic: string;
  readonly partition: number;
  readonly source: string;

  private readonly stage: StageAdapter;
  private readonly store: KeyedStore;
  private readonly emitter: OutputEmitter;
  private readonly buffer = new MinHeap<Buffered>((a, b) => a.at < b.at || (a.at === b.at && a.event.eventId < b.event.eventId));
  private readonly bufferIds = new Set<string>();
  private readonly allowedLatenessMs: number;

  private maxEventTime: number | null = null;
  private releasedUpTo: number | null = null;
  private lastOffset: bigint | null = null;
  private metaDirty = false;
  private watermarkSent: { at: number | null; idle: boolean } | null = null;

  private pendingOutputs: OutgoingRecord[] = [];
  private readonly bufferLog = new BufferLog<CanonicalEvent>();
  private problems: TaskProblem[] = [];
  private restoring: { records: number; meta: TaskMeta | null; buffer: Map<string, CanonicalEvent>; problems: TaskProblem[] } | null = null;

  constructor(private readonly options: IngressTaskOptions) {
    this.topic = options.topic;
    this.partition = options.partition;
    this.source = buildSourceId(options.topic, options.partition);
    this.stage = createStageAdapter('by-hwid', options.config);
    this.store = new KeyedStore(this.stage);
    this.emitter = new OutputEmitter(options.outputs, this.source, options.metrics);
    this.allowedLatenessMs = options.config.lateness.allowedLatenessMs;
  }

  handleBatch(records: readonly IncomingRecord[], nowMs: number): void {
    for (const record of records) this.handleRecord(record, nowMs);
    this.forwardWatermark(false);
  }

  punctuate(nowMs: number, context: PunctuateContext): void {
    // Idle: no record for a while and none waiting to be read.
    if (!context.caughtUp || context.idleForMs < this.options.idleAfterMs) {
      // A new incarnation (after restore) repeats its promise once; downstream may be new too.
      if (this.watermarkSent === null && this.releasedUpTo !== null) this.forwardWatermark(false);
      return;
    }
    // No input for a while: for a replay of old data this flushes everything; for live
    // data it is the lateness rule applied to the wall clock, moving the point only once it
    // reaches something held here: else every punctuation would send a new watermark to
    // every downstream partition (and write the task meta) while nothing happens.
    if (this.maxEventTime !== null) {
      const target = Math.min(this.maxEventTime, nowMs - this.allowedLatenessMs);
      // `>=`: the apply path releases below its horizon, so an event exactly at it is still held.
      if (this.releasedUpTo === null || (target >= this.releasedUpTo && this.holdsDueBy(target))) {
        this.release(target, true, nowMs);
        this.releasedUpTo = target;
        this.metaDirty = true;
      }
    }
    this.forwardWatermark(this.buffer.size === 0);
  }

  /** Something buffered or a timer is due by `at`: releasing up to it would do work. */
  private holdsDueBy(at: number): boolean {
    const next = this.buffer.peek();
    const timer = this.store.peekTimer();
    return (next !== undefined && next.at <= at) || (timer !== undefined && timer.at <= at);
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
    const parsed = CanonicalEvent.safeParse(json.value);
    if (!parsed.success) {
      return this.deadLetter(
        draftFromRecord(record, 'PROCESSOR_EVENT_INVALID', 'record failed the canonical event schema', zodIssues(parsed.error)),
        nowMs,
      );
    }
    const event = parsed.data;
    const expectedKey = kafkaKeyOf(event);
    if (record.key !== expectedKey) {
      return this.deadLetter(
        draftFromRecord(record, 'PROCESSOR_EVENT_MISKEYED', `event ${event.eventId} arrived keyed ${JSON.stringify(record.key)}, its key is ${JSON.stringify(expectedKey)}`),
        nowMs,
      );
    }
    if (this.releasedUpTo !== null && isTooLate(event, this.releasedUpTo + this.allowedLatenessMs, this.options.config)) {
      m.tooLate++;
      return this.deadLetter(
        draftFromRecord(
          record,
          'PROCESSOR_EVENT_TOO_LATE',
          `event ${event.eventId} at ${event.eventTime} is behind the released point ${new Date(this.releasedUpTo).toISOString()}`,
        ),
        nowMs,
      );
    }
    // A copy re-sent by a collector while the first still waits: one is enough.
    if (this.bufferIds.has(event.eventId)) {
      m.duplicates++;
      return;
    }

    const at = Date.parse(event.eventTime);
    this.buffer.push({ at, event });
    this.bufferIds.add(event.eventId);
    this.bufferLog.add(buildEventBufferKey(event.eventId), event);
    this.maxEventTime = this.maxEventTime === null ? at : Math.max(this.maxEventTime, at);
    const horizon = this.maxEventTime - this.allowedLatenessMs;
    if (this.releasedUpTo === null || horizon > this.releasedUpTo) {
      this.releasedUpTo = horizon;
      this.release(horizon, false, nowMs);
    }
  }

  /**
   * Applies buffered events before `upTo` (or at it), each after the timers due by its
   * time; then fires the timers before `upTo` too, so that nothing this task sends later
   * is behind the watermark it is about to send.
   */
  private release(upTo: number, inclusive: boolean, nowMs: number): void {
    for (let next = this.buffer.peek(); next !== undefined && (inclusive ? next.at <= upTo : next.at < upTo); next = this.buffer.peek()) {
      this.buffer.pop();
      this.bufferIds.delete(next.event.eventId);
      this.bufferLog.remove(buildEventBufferKey(next.event.eventId));
      this.fireTimers(next.at, true);
      this.route(next.event, next.at, nowMs);
    }
    this.fireTimers(upTo, inclusive);
  }

  private fireTimers(upTo: number, inclusive: boolean): void {
    for (let timer = this.store.peekTimer(); timer !== undefined && (inclusive ? timer.at <= upTo : timer.at < upTo); timer = this.store.peekTimer()) {
      this.store.takeTimer(timer);
      this.options.metrics.ticks++;
      this.options.metrics.steps++;
      const orderKey: OrderKey = { at: timer.at, order: buildTickOrder(this.stage.rank, timer.key) };
      try {
        const result = this.stage.process(timer.key, { type: 'tick', at: timer.at }, this.store.get(timer.key));
        this.store.put(timer.key, result.state);
        this.emitter.emit(orderKey, result.outputs, this.pendingOutputs);
      } catch (error) {
        this.problems.push({ code: 'PROCESSOR_STAGE_FAILED', key: timer.key, message: `by-hwid tick at ${timer.at} failed: ${describe(error)}` });
      }
    }
  }

  private route(event: CanonicalEvent, at: number, nowMs: number): void {
    this.options.metrics.steps++;
    const orderKey: OrderKey = { at, order: buildEventOrder(event.eventId) };
    if (isLicenseLifecycleEvent(event)) {
      const key = event.license.hwid.norm;
      try {
        const result = this.stage.process(key, event, this.store.get(key));
        this.store.put(key, result.state);
        this.emitter.emit(orderKey, result.outputs, this.pendingOutputs);
      } catch (error) {
        this.deadLetter(
          {
            location: { topic: this.topic, partition: this.partition, offset: null },
            key,
            value: Buffer.from(JSON.stringify(event)),
            code: 'PROCESSOR_STAGE_FAILED',
            reason: `by-hwid failed on ${event.eventId}: ${describe(error)}`,
          },
          nowMs,
        );
      }
    } else if (event.type === 'client.store') {
      this.emitter.forward('byComputer', computerKey(event.licenseServer, event.computer.norm), event, orderKey, this.pendingOutputs);
    } else {
      this.emitter.forward('byServer', event.licenseServer, event, orderKey, this.pendingOutputs);
    }
  }

  private deadLetter(draft: DeadLetterDraft, nowMs: number): void {
    this.options.metrics.deadLettered++;
    this.pendingOutputs.push(buildDeadLetterRecord(this.options.outputs.deadLetter, draft, nowMs));
  }

  private forwardWatermark(idle: boolean): void {
    const at = this.releasedUpTo;
    if (this.watermarkSent !== null && this.watermarkSent.at === at && this.watermarkSent.idle === idle) return;
    // Before any event, only an idle promise says something.
    if (at === null && !idle) return;
    const watermark = { type: 'watermark' as const, source: this.source, at, idle };
    const { byComputer, byServer } = this.options.downstreamPartitions;
    this.pendingOutputs.push(
      ...buildWatermarkRecords(this.options.outputs.byComputer, byComputer, watermark),
      ...buildWatermarkRecords(this.options.outputs.byServer, byServer, watermark),
    );
    this.options.metrics.watermarksOut += byComputer + byServer;
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
      maxEventTime: this.maxEventTime,
      releasedUpTo: this.releasedUpTo,
      cursor: null,
      lastEmitted: this.emitter.lastEmitted,
      sources: {},
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
        const event = json.ok ? BufferedEvent.safeParse(json.value) : null;
        if (event?.success === true) r.buffer.set(key, event.data);
        else r.problems.push({ code: 'PROCESSOR_CHANGELOG_RECORD_INVALID', key, message: 'buffered event failed its schema' });
      } else {
        restoreState(this.store, this.stage, key, record.value, r.problems);
      }
    }
  }

  finishRestore(): RestoreSummary {
    const r = this.restoring ?? { records: 0, meta: null, buffer: new Map<string, CanonicalEvent>(), problems: [] };
    this.restoring = null;
    if (r.meta !== null) {
      this.lastOffset = r.meta.lastOffset === null ? null : BigInt(r.meta.lastOffset);
      this.maxEventTime = r.meta.maxEventTime;
      this.releasedUpTo = r.meta.releasedUpTo;
      this.emitter.lastEmitted = r.meta.lastEmitted;
    }
    for (const [key, event] of r.buffer) {
      this.bufferLog.markPersisted(key);
      this.buffer.push({ at: Date.parse(event.eventTime), event });
      this.bufferIds.add(event.eventId);
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
    return {
      task: this.source,
      keys: this.store.size,
      buffered: this.buffer.size,
      maxEventTime: this.maxEventTime,
      releasedUpTo: this.releasedUpTo,
      lastOffset: this.lastOffset?.toString() ?? null,
    };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
