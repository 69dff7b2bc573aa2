import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { readJsonFile } from '@calwatch/runtime';
import { REPLAY_ERRORS } from './errors';
import type { ReplayInput } from './inputs';

const count = z.number().int().nonnegative();

/** Progress of one input: a snapshot is done or not; an event file is done up to a record. */
export const InputProgress = z.object({
  size: count,
  mtimeMs: count,
  /** Items (parsed records and rejections, in file order) already acknowledged downstream. */
  position: count,
  done: z.boolean(),
});
export type InputProgress = z.infer<typeof InputProgress>;

/** What was sent so far, over every run of this replay (the summary adds them up). */
export const ReplayTotals = z.object({
  records: count,
  accepted: count,
  rejected: count,
  events: count,
  snapshots: count,
  staleSnapshots: count,
  rejectedByCode: z.record(z.string(), z.object({ count, example: z.string() })),
});
export type ReplayTotals = z.infer<typeof ReplayTotals>;

/**
 * The checkpoint file: where a replay stands, so `--resume` sends nothing twice. Written
 * after each acknowledged batch (atomically: temp file + rename).
 */
export const Checkpoint = z.object({
  format: z.literal(1),
  /** Where the records go: `kafka:<topic prefix>` or the collector URL. */
  target: z.string(),
  startedAt: z.string(),
  updatedAt: z.string(),
  runs: z.number().int().min(1),
  finished: z.boolean(),
  inputs: z.record(z.string(), InputProgress),
  totals: ReplayTotals,
});
export type Checkpoint = z.infer<typeof Checkpoint>;

export function emptyTotals(): ReplayTotals {
  return { records: 0, accepted: 0, rejected: 0, events: 0, snapshots: 0, staleSnapshots: 0, rejectedByCode: {} };
}

export function buildCheckpoint(target: string, inputs: readonly ReplayInput[], now: string): Checkpoint {
  const progress: Record<string, InputProgress> = {};
  for (const input of inputs) progress[input.path] = { size: input.size, mtimeMs: input.mtimeMs, position: 0, done: false };
  return { format: 1, target, startedAt: now, updatedAt: now, runs: 1, finished: false, inputs: progress, totals: emptyTotals() };
}

/**
 * Continues a checkpoint with today's inputs: the target must match, and an input with
 * progress must not have changed since (its positions would point elsewhere). Inputs new
 * since then start at zero; inputs no longer named are kept as they were.
 */
export function resumeCheckpoint(previous: Checkpoint, target: string, inputs: readonly ReplayInput[], now: string): Checkpoint {
  if (previous.target !== target) {
    throw REPLAY_ERRORS.create('REPLAY_CHECKPOINT_MISMATCH', `the checkpoint is of a replay to ${previous.target}, not ${target}`, {
      context: { checkpointTarget: previous.target, target },
    });
  }
  const progress: Record<string, InputProgress> = { ...previous.inputs };
  for (const input of inputs) {
    const known = progress[input.path];
    if (known === undefined) {
      progress[input.path] = { size: input.size, mtimeMs: input.mtimeMs, position: 0, done: false };
      continue;
    }
    const started = known.done || known.position > 0;
    if (started && (known.size !== input.size || known.mtimeMs !== input.mtimeMs)) {
      throw REPLAY_ERRORS.create(
        'REPLAY_CHECKPOINT_MISMATCH',
        `${input.display} changed since the checkpoint (size ${known.size} -> ${input.size}, mtime ${known.mtimeMs} -> ${input.mtimeMs}); start afresh without --resume`,
        { context: { path: input.path } },
      );
    }
  }
  return { ...previous, updatedAt: now, runs: previous.runs + 1, finished: false, inputs: progress };
}

/** Adds what one acknowledged send did to the totals (pure). */
export function addToTotals(
  totals: ReplayTotals,
  sent: { records: number; accepted: number; rejected: number; events: number; snapshots?: number; stale?: number },
  rejections: ReadonlyArray<{ code: string; example: string; count: number }>,
): ReplayTotals {
  const byCode = { ...totals.rejectedByCode };
  for (const r of rejections) {
    const entry = byCode[r.code];
    byCode[r.code] = entry === undefined ? { count: r.count, example: r.example } : { count: entry.count + r.count, example: entry.example };
  }
  return {
    records: totals.records + sent.records,
    accepted: totals.accepted + sent.accepted,
    rejected: totals.rejected + sent.rejected,
    events: totals.events + sent.events,
    snapshots: totals.snapshots + (sent.snapshots ?? 0),
    staleSnapshots: totals.staleSnapshots + (sent.stale ?? 0),
    rejectedByCode: byCode,
  };
}

export async function readCheckpoint(path: string): Promise<Checkpoint | undefined> {
  let parsed;
  try {
    parsed = await readJsonFile(path, Checkpoint);
  } catch (error) {
    throw REPLAY_ERRORS.create('REPLAY_CHECKPOINT_INVALID', `cannot read checkpoint ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (parsed === undefined) return undefined;
  if (!parsed.success) {
    throw REPLAY_ERRORS.create('REPLAY_CHECKPOINT_INVALID', `${path} is not a calwatch replay checkpoint`, {
      context: { path, issues: parsed.error?.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`) },
    });
  }
  return parsed.data;
}

/** Replaces the file in one rename, so a crash leaves the old or the new checkpoint, never half of one. */
export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(checkpoint, null, 1) + '\n');
  await rename(temp, path);
}
