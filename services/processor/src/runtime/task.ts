import type { IncomingRecord, OutgoingRecord } from '@calwatch/kafka';
import type { StoreSize } from './state-entries';

/** One kind today: a partition of the events topic (server-task.ts). */
export type TaskKind = 'server';

/**
 * What the runtime knows at a punctuation, from the log end and the group's committed
 * offset read when it began. Idleness is trusted only where nothing is left to read:
 * otherwise a partition whose records simply were not fetched yet would be flushed early.
 */
export interface PunctuateContext {
  /** Wall-clock time since the task's last input record. */
  idleForMs: number;
  /** The task has read its input partition up to the end it had when the punctuation began. */
  caughtUp: boolean;
}

/** Something a task could not take from its changelog; logged by the runtime. */
export interface TaskProblem {
  code: string;
  message: string;
  key?: string;
}

export interface RestoreSummary {
  records: number;
  keys: number;
  buffered: number;
  problems: TaskProblem[];
}

/**
 * One (input topic, partition): the state of the keys that hash to it, its changelog
 * partition, its lateness buffer and timers. Pure: it consumes records and produces
 * records; the runtime does the I/O and guarantees one call at a time.
 */
export interface Task {
  readonly kind: TaskKind;
  readonly topic: string;
  readonly partition: number;
  /** `topic:partition`, the id the runtime tracks this task by. */
  readonly source: string;
  /** Applies a batch of input records (in offset order). */
  handleBatch(records: readonly IncomingRecord[], nowMs: number): void;
  /** Wall-clock work: an idle task releases what the lateness holds. */
  punctuate(nowMs: number, context: PunctuateContext): void;
  /** Findings, enriched events and dead letters produced since the last call: written first. */
  takeOutputs(): OutgoingRecord[];
  /**
   * The changelog records that make the task's changelog partition hold its state as it is
   * now: entries of states changed since the last call, buffer entries, and the task meta
   * (last applied offset, event-time clock) whenever anything was applied or advanced.
   * Empty when nothing changed. Written after the outputs, then the input offset committed.
   */
  takeChangelog(): OutgoingRecord[];
  /** Restore: changelog records of this task's partition, in offset order. */
  restore(records: readonly IncomingRecord[]): void;
  finishRestore(): RestoreSummary;
  /** Problems met outside restore (a stage throwing on a timer); taken by the runtime to log. */
  takeProblems(): TaskProblem[];
  status(): Record<string, unknown>;
  /** Keyed state entries and their encoded bytes, per store (stage). */
  stateSizes(): StoreSize[];
}
