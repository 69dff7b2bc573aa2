import {
  addToTotals,
  buildCheckpoint,
  emptyTotals,
  readCheckpoint,
  resumeCheckpoint,
  writeCheckpoint,
  type Checkpoint,
  type ReplayTotals,
} from './checkpoint';
import type { InputPlan } from './inputs';
import { createPacer, pause } from './pacing';
import type { ProgressBar } from './progress';
import type { ItemEntry, ReplaySink, SendResult } from './sink';
import { DEFAULT_MAX_EVENT_TIME_SKEW_MS } from '@calwatch/model';
import { newestInputTimeMs, replayEntries, type ReadOptions } from './sources';

export interface ReplayRunOptions {
  plan: InputPlan;
  sink: ReplaySink;
  /** Event-time ms per wall ms; undefined: full speed. */
  speed?: number;
  /** Event-file records per send. */
  batchRecords: number;
  /** Where progress is kept; without it the replay cannot be resumed (the demo). */
  checkpoint?: { path: string; resume: boolean };
  licenseServer?: string;
  signal: AbortSignal;
  progress?: ProgressBar;
  /** Called after each acknowledged send with the event time reached (the demo's status line). */
  onSent?: (eventTimeMs: number | null, totals: ReplayTotals) => void;
  /** Minimum time between two checkpoint writes (snapshots and the end always write). */
  checkpointIntervalMs?: number;
  /** How far past the newest input time an event may be (default one day). */
  maxEventTimeSkewMs?: number;
  now?: () => number;
}

export interface ReplayRunResult {
  /** Over every run of this replay (earlier runs included when resumed). */
  totals: ReplayTotals;
  /** This run only. */
  run: ReplayTotals;
  interrupted: boolean;
  /** Set when this run continued a checkpoint. */
  resumed: { runs: number; inputsDone: number; recordsBefore: number } | null;
  /** Nothing was left to send (a resumed replay that had finished). */
  nothingLeft: boolean;
  durationMs: number;
  firstEventTimeMs: number | null;
  lastEventTimeMs: number | null;
}

/**
 * Sends the inputs of a plan to a sink in event-time order (see sources.ts), at full
 * speed or paced, recording after each acknowledged send what is done. Stops after the
 * send in flight when the signal aborts; records read but not yet sent are read again
 * by the next `--resume`.
 */
export async function runReplay(options: ReplayRunOptions): Promise<ReplayRunResult> {
  const now = options.now ?? Date.now;
  const startedMs = now();
  const { plan, sink, signal } = options;
  const nowIso = new Date(startedMs).toISOString();

  let checkpoint: Checkpoint = buildCheckpoint(sink.target, plan.inputs, nowIso);
  let resumed: ReplayRunResult['resumed'] = null;
  if (options.checkpoint !== undefined && options.checkpoint.resume) {
    const previous = await readCheckpoint(options.checkpoint.path);
    if (previous !== undefined) {
      checkpoint = resumeCheckpoint(previous, sink.target, plan.inputs, nowIso);
      const inputsDone = plan.inputs.filter((i) => checkpoint.inputs[i.path]?.done === true).length;
      resumed = { runs: previous.runs, inputsDone, recordsBefore: previous.totals.records };
    }
  }

  let bytesDone = plan.inputs.filter((i) => checkpoint.inputs[i.path]?.done === true).reduce((sum, i) => sum + i.size, 0);
  const remaining = plan.inputs.filter((i) => checkpoint.inputs[i.path]?.done !== true);
  let run = emptyTotals();
  let firstEventTimeMs: number | null = null;
  let lastEventTimeMs: number | null = null;
  let lastSave = 0;

  const read: ReadOptions = {
    onBytes: (bytes) => {
      bytesDone += bytes;
    },
    ...(options.licenseServer === undefined ? {} : { licenseServer: options.licenseServer }),
    eventTimeBound: { referenceMs: newestInputTimeMs(plan.inputs, startedMs), skewMs: options.maxEventTimeSkewMs ?? DEFAULT_MAX_EVENT_TIME_SKEW_MS },
  };

  const save = async (force: boolean): Promise<void> => {
    if (options.checkpoint === undefined) return;
    const t = now();
    if (!force && t - lastSave < (options.checkpointIntervalMs ?? 1_000)) return;
    lastSave = t;
    checkpoint = { ...checkpoint, updatedAt: new Date(t).toISOString() };
    await writeCheckpoint(options.checkpoint.path, checkpoint);
  };

  const drawProgress = (): void => {
    options.progress?.update({
      bytesDone,
      bytesTotal: plan.totalBytes,
      records: run.records + (resumed?.recordsBefore ?? 0),
      rejected: checkpoint.totals.rejected,
      eventTimeMs: lastEventTimeMs,
      startedMs,
      nowMs: now(),
    });
  };

  const account = (sent: SendResult, snapshot: boolean): void => {
    const delta = {
      records: sent.records,
      accepted: sent.accepted,
      rejected: sent.rejected,
      events: sent.events,
      snapshots: snapshot ? 1 : 0,
      stale: sent.stale ? 1 : 0,
    };
    run = addToTotals(run, delta, sent.rejections);
    checkpoint = { ...checkpoint, totals: addToTotals(checkpoint.totals, delta, sent.rejections) };
    options.onSent?.(lastEventTimeMs, checkpoint.totals);
  };

  let pending: ItemEntry[] = [];
  const flush = async (): Promise<void> => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const sent = await options.sink.sendItems(batch);
    const inputs = { ...checkpoint.inputs };
    for (const entry of batch) {
      const state = inputs[entry.input.path]!;
      if (entry.position > state.position) inputs[entry.input.path] = { ...state, position: entry.position };
    }
    checkpoint = { ...checkpoint, inputs };
    account(sent, false);
    await save(false);
  };

  const pacer = createPacer(options.speed);
  let interrupted = false;
  try {
    await sink.start();
    for await (const entry of replayEntries(remaining, checkpoint.inputs, read)) {
      if (signal.aborted) break;
      const delay = pacer.delayMs(entry.at, now());
      if (delay > 0) {
        await flush();
        drawProgress();
        await pause(delay, signal);
        if (signal.aborted) break;
      }
      if (Number.isFinite(entry.at)) {
        firstEventTimeMs ??= entry.at;
        lastEventTimeMs = Math.max(lastEventTimeMs ?? entry.at, entry.at);
      }
      if (entry.kind === 'snapshot') {
        await flush();
        const sent = await sink.sendSnapshot(entry.input, read);
        const state = checkpoint.inputs[entry.input.path]!;
        checkpoint = { ...checkpoint, inputs: { ...checkpoint.inputs, [entry.input.path]: { ...state, done: true } } };
        account(sent, true);
        await save(true);
      } else {
        pending.push(entry);
        if (pending.length >= options.batchRecords) await flush();
      }
      drawProgress();
    }
    interrupted = signal.aborted;
    if (!interrupted) {
      await flush();
      const inputs = { ...checkpoint.inputs };
      for (const input of remaining) inputs[input.path] = { ...inputs[input.path]!, done: true };
      checkpoint = { ...checkpoint, inputs, finished: true };
    }
  } catch (error) {
    // A retry pause or a send cut short by the signal: what was acknowledged is recorded.
    if (!signal.aborted) throw error;
    interrupted = true;
  } finally {
    // Whatever happened, what was acknowledged is on disk for --resume.
    await save(true);
    options.progress?.clear();
    await sink.close();
  }

  return {
    totals: checkpoint.totals,
    run,
    interrupted,
    resumed,
    nothingLeft: remaining.length === 0,
    durationMs: now() - startedMs,
    firstEventTimeMs,
    lastEventTimeMs,
  };
}
