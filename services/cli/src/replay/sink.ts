import type { ReplayInput } from './inputs';
import type { ReadOptions, ReplayEntry } from './sources';

export type ItemEntry = Extract<ReplayEntry, { kind: 'item' }>;

export interface RejectionCount {
  code: string;
  count: number;
  /** One reason of that code, for the summary. */
  example: string;
}

/** What one acknowledged send did. */
export interface SendResult {
  /** Records read: parsed rows and events plus rejected records. */
  records: number;
  accepted: number;
  rejected: number;
  /** Events published (for a snapshot: the lifecycle events the differ derived). */
  events: number;
  /** A snapshot not newer than the last one of its server: nothing emitted. */
  stale: boolean;
  rejections: RejectionCount[];
}

/**
 * Where a replay sends what it reads: the collector's own ingest code in this process
 * (Kafka directly), or a running collector's HTTP API. Both resolve only once everything
 * sent is acknowledged, so the checkpoint never runs ahead of the log.
 */
export interface ReplaySink {
  /** `kafka:<topic prefix>` or the collector URL; recorded in the checkpoint. */
  readonly target: string;
  start(): Promise<void>;
  /** Events and rejections of event files, in replay order. */
  sendItems(entries: readonly ItemEntry[]): Promise<SendResult>;
  /** One snapshot export, whole. */
  sendSnapshot(input: ReplayInput, read: ReadOptions): Promise<SendResult>;
  close(): Promise<void>;
}

/** Adds one rejection to a per-code tally. */
export function countRejection(tally: Map<string, RejectionCount>, code: string, example: string, count = 1): void {
  const entry = tally.get(code);
  if (entry === undefined) tally.set(code, { code, count, example });
  else entry.count += count;
}
