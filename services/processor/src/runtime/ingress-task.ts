import { CanonicalEvent, type IncomingRecord, MinHeap, isLicenseLifecycleEvent, kafkaKeyOf } from '@calwatch/shared';
import { type CoreConfig, computerKey, isTooLate } from '../core/index';
import { BufferedEvent, buildEventBufferKey } from './changelog';
import type { OutputTopics } from './emitter';
import { draftFromRecord, zodIssues } from './internal-records';
import type { RuntimeMetrics } from './metrics';
import { buildEventOrder } from './order-key';
import { TaskEngine, type WatermarkTarget } from './task-engine';
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

  private readonly engine: TaskEngine<CanonicalEvent>;
  private readonly buffer = new MinHeap<Buffered>((a, b) => a.at < b.at || (a.at === b.at && a.event.eventId < b.event.eventId));
  private readonly bufferIds = new Set<string>();
  private readonly allowedLatenessMs: number;
  private readonly downstream: readonly WatermarkTarget[];

  private maxEventTime: number | null = null;
  private releasedUpTo: number | null = null;

  constructor(private readonly options: IngressTaskOptions) {
    this.topic = options.topic;
    this.partition = options.partition;
    this.engine = new TaskEngine({ ...options, stage: 'by-hwid', buffered: { name: 'event', decode: decodeBufferedEvent } });
    this.source = this.engine.source;
    this.allowedLatenessMs = options.config.lateness.allowedLatenessMs;
    this.downstream = [
      { topic: options.outputs.byComputer, partitions: options.downstreamPartitions.byComputer },
      { topic: options.outputs.byServer, partitions: options.downstreamPartitions.byServer },
    ];
  }

  handleBatch(records: readonly IncomingRecord[], nowMs: number): void {
    for (const record of records) this.handleRecord(record, nowMs);
    this.forwardWatermark(false);
  }

  punctuate(nowMs: number, context: PunctuateContext): void {
    // Idle: no record for a while and none waiting to be read.
    if (!context.caughtUp || context.idleForMs < this.options.idleAfterMs) {
      // A new incarnation (after restore) repeats its promise once; downstream may be new too.
      if (!this.engine.hasSentWatermark && this.releasedUpTo !== null) this.forwardWatermark(false);
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
        this.engine.markMetaDirty();
      }
    }
    this.forwardWatermark(this.buffer.size === 0);
  }

  /** Something buffered or a timer is due by `at`: releasing up to it would do work. */
  private holdsDueBy(at: number): boolean {
    const next = this.buffer.peek();
    const timer = this.engine.store.peekTimer();
    return (next !== undefined && next.at <= at) || (timer !== undefined && timer.at <= at);
  }

  private handleRecord(record: IncomingRecord, nowMs: number): void {
    const m = this.options.metrics;
    const input = this.engine.admit(record, nowMs);
    if (input === null) return;
    const parsed = CanonicalEvent.safeParse(input.value);
    if (!parsed.success) {
      return this.engine.deadLetter(
        draftFromRecord(record, 'PROCESSOR_EVENT_INVALID', 'record failed the canonical event schema', zodIssues(parsed.error)),
        nowMs,
      );
    }
    const event = parsed.data;
    const expectedKey = kafkaKeyOf(event);
    if (record.key !== expectedKey) {
      return this.engine.deadLetter(
        draftFromRecord(record, 'PROCESSOR_EVENT_MISKEYED', `event ${event.eventId} arrived keyed ${JSON.stringify(record.key)}, its key is ${JSON.stringify(expectedKey)}`),
        nowMs,
      );
    }
    if (this.releasedUpTo !== null && isTooLate(event, this.releasedUpTo + this.allowedLatenessMs, this.options.config)) {
      m.tooLate++;
      return this.engine.deadLetter(
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
    this.engine.bufferLog.add(buildEventBufferKey(event.eventId), event);
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
      this.engine.bufferLog.remove(buildEventBufferKey(next.event.eventId));
      this.fireTimers(next.at, true);
      this.route(next.event, next.at, nowMs);
    }
    this.fireTimers(upTo, inclusive);
  }

  private fireTimers(upTo: number, inclusive: boolean): void {
    const store = this.engine.store;
    for (let timer = store.peekTimer(); timer !== undefined && (inclusive ? timer.at <= upTo : timer.at < upTo); timer = store.peekTimer()) {
      this.engine.fire(timer, this.engine.tickKey(timer));
    }
  }

  private route(event: CanonicalEvent, at: number, nowMs: number): void {
    const orderKey = { at, order: buildEventOrder(event.eventId) };
    if (isLicenseLifecycleEvent(event)) {
      this.engine.apply(event.license.hwid.norm, event, orderKey, nowMs, event.eventId);
      return;
    }
    // Passing an event on is a step of its own.
    this.options.metrics.steps++;
    if (event.type === 'client.store') {
      this.engine.forward('byComputer', computerKey(event.licenseServer, event.computer.norm), event, orderKey);
    } else {
      this.engine.forward('byServer', event.licenseServer, event, orderKey);
    }
  }

  private forwardWatermark(idle: boolean): void {
    // Before any event, only an idle promise says something.
    if (this.releasedUpTo === null && !idle) return;
    this.engine.sendWatermark(this.releasedUpTo, idle, this.downstream);
  }

  drain(): TaskFlush {
    return this.engine.drain(() => ({ maxEventTime: this.maxEventTime, releasedUpTo: this.releasedUpTo, cursor: null, sources: {} }));
  }

  restore(records: readonly IncomingRecord[]): void {
    this.engine.restore(records);
  }

  finishRestore(): RestoreSummary {
    const { records, meta, buffered, problems } = this.engine.finishRestore();
    if (meta !== null) {
      this.maxEventTime = meta.maxEventTime;
      this.releasedUpTo = meta.releasedUpTo;
    }
    for (const event of buffered) {
      this.buffer.push({ at: Date.parse(event.eventTime), event });
      this.bufferIds.add(event.eventId);
    }
    return { records, keys: this.engine.store.size, buffered: this.buffer.size, problems };
  }

  takeProblems(): TaskProblem[] {
    return this.engine.takeProblems();
  }

  status(): Record<string, unknown> {
    return {
      task: this.source,
      keys: this.engine.store.size,
      buffered: this.buffer.size,
      maxEventTime: this.maxEventTime,
      releasedUpTo: this.releasedUpTo,
      lastOffset: this.engine.offset,
    };
  }
}

function decodeBufferedEvent(json: unknown): CanonicalEvent | null {
  const event = BufferedEvent.safeParse(json);
  return event.success ? event.data : null;
}
