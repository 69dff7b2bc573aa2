import { type IncomingRecord, type OutgoingRecord } from '@calwatch/kafka';
import { CanonicalEvent, type EnrichedEvent, type Finding, type RecordDecodeCodes, type Revocation, decodeRecord, kafkaKeyOf, msFromIso } from '@calwatch/model';
import {
  type CoreConfig,
  type CoreErrorCode,
  type DeferredStageState,
  type DeferredStates,
  type FailedStep,
  type Pipeline,
  type PipelineSnapshot,
  type StageName,
  createPipeline,
} from '../core/index';
import { BufferLog, BufferedEvent, META_KEY, TaskMeta, buildChangelogRecord, eventIdOfBufferKey, isBufferKey } from './changelog';
import {
  type DeadLetterDraft,
  buildDeadLetterRecord,
  buildEnrichedRecord,
  buildFindingRecord,
  buildRevocationRecord,
  buildSourceId,
  draftFromRecord,
} from './internal-records';
import type { ProcessorErrorCode } from '../errors';
import type { RuntimeMetrics } from './metrics';
import { StateEntries, isStateEntryKey, type StoreSize } from './state-entries';
import type { PunctuateContext, RestoreSummary, Task, TaskProblem } from './task';

const EVENT_DECODING = {
  codes: { empty: 'PROCESSOR_RECORD_NOT_JSON', notJson: 'PROCESSOR_RECORD_NOT_JSON', invalid: 'PROCESSOR_EVENT_INVALID' } satisfies RecordDecodeCodes<ProcessorErrorCode | CoreErrorCode>,
  what: 'event',
};

export interface ServerTaskOptions {
  /** The events topic and this task's partition of it. */
  topic: string;
  partition: number;
  outputs: { findings: string; enriched: string; revocations: string; deadLetter: string };
  changelogTopic: string;
  config: CoreConfig;
  idleAfterMs: number;
  metrics: RuntimeMetrics;
}

interface Restoring {
  records: number;
  /**
   * The last value read per key (null: a tombstone) of the task's meta and buffered events,
   * as text. A changelog holds several records per key until the broker compacts it; only
   * the last counts. State entries go to StateEntries as they are read, in log order (where
   * the last also wins): they are nearly every record, and a map of them all first was the
   * largest cost of a restore. These few are kept as text, not the record's buffer: a buffer
   * may be a slice that keeps a whole fetch response alive. State entries are kept as the
   * bytes read (StateEntries says why): they are nearly all of what the responses hold.
   */
  latest: Map<string, string | null>;
  problems: TaskProblem[];
}

/**
 * One partition of the events topic, which is keyed by license server: the whole
 * detection core runs here for the servers that hash to it, exactly as the in-process
 * pipeline does (every rule is about one license server, so no state crosses partitions).
 * Its state goes to the task's changelog partition as small entries, only those that
 * changed; the lateness buffer and the task meta go with them.
 */
export class ServerTask implements Task {
  readonly kind = 'server' as const;
  readonly topic: string;
  readonly partition: number;
  readonly source: string;

  private pipeline: Pipeline;
  private readonly entries: StateEntries;
  private readonly bufferLog = new BufferLog<CanonicalEvent>();
  private readonly dirty = new Map<StageName, Set<string>>([
    ['by-hwid', new Set()],
    ['by-computer', new Set()],
    ['by-server', new Set()],
  ]);
  private readonly metrics: RuntimeMetrics;
  private pendingOutputs: OutgoingRecord[] = [];
  private problems: TaskProblem[] = [];
  private lastOffset: bigint | null = null;
  private metaDirty = false;
  private restoring: Restoring | null = null;
  /** Wall clock of the unit of work in progress (dead letters carry it). */
  private nowMs = 0;
  /** Event time of the step in progress, for the records' `calwatch-at` header. */
  private stepAt = 0;
  /** Events in the lateness buffer. */
  private held = 0;

  constructor(private readonly options: ServerTaskOptions) {
    this.topic = options.topic;
    this.partition = options.partition;
    this.source = buildSourceId(options.topic, options.partition);
    this.metrics = options.metrics;
    this.entries = new StateEntries(options.changelogTopic, options.partition);
    this.pipeline = this.createPipeline(undefined);
  }

  private createPipeline(restore: PipelineSnapshot | undefined, deferred?: readonly DeferredStageState[]): Pipeline {
    return createPipeline(
      this.options.config,
      {
        onFinding: (finding) => this.emitFinding(finding),
        onEnriched: (event, key) => this.emitEnriched(event, key),
        onRevocation: (revocation, key) => this.emitRevocation(revocation, key),
        onStateChange: (stage, key) => {
          this.metrics.steps++;
          this.dirty.get(stage)!.add(key);
        },
        onBuffer: (event, held) => {
          this.held += held ? 1 : -1;
          if (held) this.bufferLog.add(event.eventId, event);
          else {
            this.bufferLog.remove(event.eventId);
            this.stepAt = msFromIso(event.eventTime);
          }
        },
        onDuplicate: () => this.metrics.duplicates++,
        onTick: (at) => {
          this.metrics.ticks++;
          this.stepAt = at;
        },
        onStepFailed: (failure) => this.stepFailed(failure),
      },
      restore,
      { retainFindings: false, ...(deferred === undefined ? {} : { deferred: this.deferredStates(deferred) }) },
    );
  }

  /** Restored states are decoded at their first use; one that cannot be is reported then and dropped. */
  private deferredStates(states: readonly DeferredStageState[]): DeferredStates {
    return {
      states,
      load: (stage, key, source) => this.entries.load(stage, key, source, this.problems),
    };
  }

  private emitFinding(finding: Finding): void {
    this.metrics.findingsOut++;
    this.pendingOutputs.push(buildFindingRecord(this.options.outputs.findings, finding, this.stepAt, this.source));
  }

  private emitEnriched(event: EnrichedEvent, key: string): void {
    this.metrics.enrichedOut++;
    this.pendingOutputs.push(buildEnrichedRecord(this.options.outputs.enriched, key, event));
  }

  private emitRevocation(revocation: Revocation, key: string): void {
    this.pendingOutputs.push(buildRevocationRecord(this.options.outputs.revocations, key, revocation, this.stepAt, this.source));
  }

  /** A stage threw: its key's state stays as it was; an input is dead-lettered, a timer reported. */
  private stepFailed(failure: FailedStep): void {
    const why = failure.error instanceof Error ? failure.error.message : String(failure.error);
    const message = failure.message as { type?: string; at?: number; eventId?: string };
    if (message.type === 'tick') {
      this.problems.push({ code: 'PROCESSOR_STAGE_FAILED', key: failure.key, message: `${failure.stage} tick at ${message.at} failed: ${why}` });
      return;
    }
    this.deadLetter({
      location: { topic: this.topic, partition: this.partition, offset: null },
      key: failure.key,
      value: Buffer.from(JSON.stringify(failure.message)),
      code: 'PROCESSOR_STAGE_FAILED',
      reason: `${failure.stage} failed on ${message.eventId ?? message.type ?? 'a message'}: ${why}`,
    });
  }

  private deadLetter(draft: DeadLetterDraft): void {
    this.metrics.deadLettered++;
    this.pendingOutputs.push(buildDeadLetterRecord(this.options.outputs.deadLetter, draft, this.nowMs));
  }

  handleBatch(records: readonly IncomingRecord[], nowMs: number): void {
    this.nowMs = nowMs;
    for (const record of records) this.handleRecord(record);
  }

  private handleRecord(record: IncomingRecord): void {
    this.metrics.records++;
    const offset = BigInt(record.offset);
    // Applied before a crash that came before the commit: the state has it already.
    if (this.lastOffset !== null && offset <= this.lastOffset) {
      this.metrics.replayedRecords++;
      return;
    }
    this.lastOffset = offset;
    this.metaDirty = true;
    const decoded = decodeRecord(record, CanonicalEvent, EVENT_DECODING);
    if (!decoded.ok) return this.deadLetter(draftFromRecord(record, decoded.problem.code, decoded.problem.reason, decoded.problem.issues));
    const event = decoded.value;
    // A misrouted event would split a license server's state over two partitions.
    const expectedKey = kafkaKeyOf(event);
    if (record.key !== expectedKey) {
      return this.deadLetter(
        draftFromRecord(record, 'PROCESSOR_EVENT_MISKEYED', `event ${event.eventId} arrived keyed ${JSON.stringify(record.key)}, its key is ${JSON.stringify(expectedKey)}`),
      );
    }
    const outcome = this.pipeline.apply(event, vouchedTimeMs(record, this.nowMs));
    if (outcome.status === 'too-late') {
      this.metrics.tooLate++;
      this.deadLetter(draftFromRecord(record, 'PROCESSOR_EVENT_TOO_LATE', outcome.error.message));
    } else if (outcome.status === 'time-ahead') {
      this.metrics.timeAhead++;
      this.deadLetter(draftFromRecord(record, 'PROCESSOR_EVENT_TIME_AHEAD', outcome.error.message));
    }
  }

  punctuate(nowMs: number, context: PunctuateContext): void {
    this.nowMs = nowMs;
    // Idle: no record for a while and none waiting to be read.
    if (!context.caughtUp || context.idleForMs < this.options.idleAfterMs) return;
    const newest = this.pipeline.watermark();
    if (newest === null) return;
    // For a replay of old data this releases everything; for live data it is the lateness
    // rule on the wall clock. The point moves only when it reaches something held, so a
    // drained task writes nothing while live events wait out their lateness.
    const target = Math.min(newest, nowMs - this.options.config.lateness.allowedLatenessMs);
    const released = this.pipeline.releasedUpTo();
    const next = this.pipeline.nextDueAt();
    if (released !== null && target < released) return;
    if (next === null || next > target) return;
    this.pipeline.advanceTo(target);
    this.metaDirty = true;
  }

  takeOutputs(): OutgoingRecord[] {
    const outputs = this.pendingOutputs;
    this.pendingOutputs = [];
    return outputs;
  }

  takeChangelog(): OutgoingRecord[] {
    const changelog: OutgoingRecord[] = [];
    for (const [stage, keys] of this.dirty) {
      for (const key of keys) this.entries.write(stage, key, this.pipeline.stateOf(stage, key), this.pipeline.dueAtOf(stage, key), changelog);
      keys.clear();
    }
    this.bufferLog.drain(this.options.changelogTopic, this.partition, changelog);
    if (changelog.length > 0 || this.metaDirty) {
      changelog.push(buildChangelogRecord(this.options.changelogTopic, this.partition, META_KEY, this.meta()));
      this.metaDirty = false;
    }
    return changelog;
  }

  private meta(): TaskMeta {
    return {
      v: 1,
      lastOffset: this.lastOffset?.toString() ?? null,
      maxEventTime: this.pipeline.watermark(),
      releasedUpTo: this.pipeline.releasedUpTo(),
    };
  }

  restore(records: readonly IncomingRecord[]): void {
    this.restoring ??= { records: 0, latest: new Map(), problems: [] };
    const r = this.restoring;
    r.records += records.length;
    for (const record of records) {
      if (record.key === null) continue;
      if (isStateEntryKey(record.key)) this.entries.restore(record.key, record.value, r.problems);
      else r.latest.set(record.key, record.value === null ? null : record.value.toString('utf8'));
    }
  }

  finishRestore(): RestoreSummary {
    const r = this.restoring ?? { records: 0, latest: new Map<string, string | null>(), problems: [] };
    this.restoring = null;
    let meta: TaskMeta | null = null;
    const buffer = new Map<string, CanonicalEvent>();
    for (const [key, value] of r.latest) {
      if (value === null) continue;
      if (key === META_KEY) {
        const parsed = TaskMeta.safeParse(parseText(value));
        if (parsed.success) meta = parsed.data;
        else r.problems.push({ code: 'PROCESSOR_CHANGELOG_RECORD_INVALID', key, message: 'task meta failed its schema' });
      } else if (isBufferKey(key)) {
        const event = BufferedEvent.safeParse(parseText(value));
        if (event.success) buffer.set(key, event.data);
        else r.problems.push({ code: 'PROCESSOR_CHANGELOG_RECORD_INVALID', key, message: 'buffered event failed its schema' });
      } else {
        r.problems.push({ code: 'PROCESSOR_CHANGELOG_RECORD_INVALID', key, message: 'not a key this processor writes' });
      }
    }
    const snapshot: PipelineSnapshot = {
      v: 1,
      maxEventTime: meta?.maxEventTime ?? null,
      releasedUpTo: meta?.releasedUpTo ?? null,
      buffer: [...buffer.values()],
      byHwid: {},
      byComputer: {},
      byServer: {},
      findings: {},
    };
    const deferred = this.entries.finishRestore(r.problems);
    this.lastOffset = meta?.lastOffset == null ? null : BigInt(meta.lastOffset);
    for (const key of buffer.keys()) this.bufferLog.markPersisted(eventIdOfBufferKey(key));
    this.pipeline = this.createPipeline(snapshot, deferred);
    this.held = snapshot.buffer.length;
    return { records: r.records, keys: deferred.length, buffered: snapshot.buffer.length, problems: r.problems };
  }

  takeProblems(): TaskProblem[] {
    const problems = this.problems;
    this.problems = [];
    return problems;
  }

  stateSizes(): StoreSize[] {
    return this.entries.sizes();
  }

  status(): Record<string, unknown> {
    const stats = this.pipeline.stats();
    return {
      task: this.source,
      keys: stats.keys,
      stateEntries: this.entries.size,
      buffered: this.held,
      maxEventTime: this.pipeline.watermark(),
      releasedUpTo: this.pipeline.releasedUpTo(),
      lastOffset: this.lastOffset?.toString() ?? null,
    };
  }
}

/**
 * The newest time a record vouches for: its Kafka timestamp (CreateTime: the collector's or
 * replay's clock when it was produced), else the wall clock of the batch. The record
 * timestamp, not the processor's clock, so that reprocessing the topic later bounds every
 * event exactly as the first run did (the state must not depend on when it is rebuilt),
 * and a stalled consumer catching up does not judge old records against a newer clock.
 */
export function vouchedTimeMs(record: Pick<IncomingRecord, 'timestamp'>, nowMs: number): number {
  const timestamp = Number(record.timestamp);
  return Number.isFinite(timestamp) && timestamp > 0 ? timestamp : nowMs;
}

/** JSON text as a value, or undefined when it is not JSON (the schema then refuses it). */
function parseText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
