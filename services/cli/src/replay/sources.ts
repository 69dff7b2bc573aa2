import { createReadStream } from 'node:fs';
import { parseStream, type ParsedBatch, type ParsedItem } from '@calwatch/ingest';
import { isEventTimeAhead, newestVouchedTimeMs } from '@calwatch/model';
import type { InputProgress } from './checkpoint';
import type { InputRole, ReplayInput } from './inputs';
import { mergeByTime } from './merge';

/** One step of a replay: a whole snapshot export, or one record of an event file. */
export type ReplayEntry =
  | { kind: 'snapshot'; input: ReplayInput; at: number; rank: number; position: number }
  | { kind: 'item'; input: ReplayInput; at: number; rank: number; position: number; item: ParsedItem };

/**
 * At one instant, issued-license snapshots go first, then key packs, then events: the
 * snapshot's lifecycle events carry earlier times (issue dates), so they should not be
 * queued behind the instant's inventory and store events.
 */
const RANK: Record<InputRole, number> = { 'issued-snapshot': 0, 'keypack-snapshot': 1, events: 2 };

export interface ReadOptions {
  /** Called with the size of every chunk read from disk (compressed bytes for gzip). */
  onBytes?: (bytes: number) => void;
  /** For rows and events that name no license server. */
  licenseServer?: string;
  /**
   * Events of event files later than this are rejected (REPLAY_EVENT_TIME_AHEAD) instead
   * of sent: the newest time the inputs themselves vouch for plus the allowed skew.
   */
  eventTimeBound?: { referenceMs: number; skewMs: number };
}

async function* countBytes(path: string, onBytes: ((bytes: number) => void) | undefined): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(path)) {
    const buffer = chunk as Buffer;
    onBytes?.(buffer.length);
    yield buffer;
  }
}

/** Parses one input with the shared parsers, as the collector would (format fixed by the plan); batches as parseStream. */
export function readBatches(input: ReplayInput, options: ReadOptions): AsyncGenerator<ParsedBatch> {
  return parseStream(countBytes(input.path, options.onBytes), {
    ref: input.path,
    format: input.format,
    observedTime: input.snapshotTime,
    ...(options.licenseServer === undefined ? {} : { licenseServer: options.licenseServer }),
  });
}

/** The entries of an event file, a parsed batch at a time (for mergeByTime). */
async function* itemEntries(input: ReplayInput, skip: number, options: ReadOptions): AsyncGenerator<ReplayEntry[]> {
  let position = 0;
  let last = Number.NEGATIVE_INFINITY;
  const bound = options.eventTimeBound;
  for await (const batch of readBatches(input, options)) {
    const entries: ReplayEntry[] = [];
    for (const item of batch) {
      position += 1;
      // A rejection keeps its place in the file: it takes the time of the record before it.
      const ahead = item.kind === 'event' && bound !== undefined && isEventTimeAhead(item.event.eventTime, bound.referenceMs, bound.skewMs);
      // An event far ahead neither sends nor sets the merge time: it would hold back the rest of its file.
      if (item.kind === 'event' && !ahead) last = Date.parse(item.event.eventTime);
      if (position <= skip) continue;
      entries.push({ kind: 'item', input, at: last, rank: RANK.events, position, item: ahead ? rejectAhead(item, input, bound!) : item });
    }
    if (entries.length > 0) yield entries;
  }
}

function rejectAhead(item: Extract<ParsedItem, { kind: 'event' }>, input: ReplayInput, bound: { referenceMs: number; skewMs: number }): ParsedItem {
  const { event } = item;
  return {
    kind: 'rejected',
    rejection: {
      code: 'REPLAY_EVENT_TIME_AHEAD',
      reason: `${event.type} event time ${event.eventTime} is more than ${bound.skewMs} ms past the newest input time ${new Date(bound.referenceMs).toISOString()}; check the source's clock`,
      ref: input.path,
      line: null,
      record: item.record,
      field: 'eventTime',
      issues: [{ path: 'eventTime', message: `later than ${new Date(bound.referenceMs + bound.skewMs).toISOString()}` }],
      original: Buffer.from(JSON.stringify(event)),
    },
  };
}

/** The newest time a replay's inputs vouch for: their modification and snapshot times (see newestVouchedTimeMs). */
export function newestInputTimeMs(inputs: readonly ReplayInput[], nowMs: number): number {
  return newestVouchedTimeMs(
    inputs.flatMap((input) => [input.mtimeMs, Date.parse(input.snapshotTime)]),
    nowMs,
  );
}

async function* snapshotEntry(input: ReplayInput): AsyncGenerator<ReplayEntry[]> {
  yield [{ kind: 'snapshot', input, at: Date.parse(input.snapshotTime), rank: RANK[input.role], position: 0 }];
}

/**
 * Everything left to replay, in event-time order: snapshot exports at their snapshot
 * time, event files merged by event time (streamed: one parsed chunk per file in memory).
 * Inputs the checkpoint marks done are left out; event files resume after their position.
 */
export function replayEntries(
  inputs: readonly ReplayInput[],
  progress: Readonly<Record<string, InputProgress>>,
  options: ReadOptions,
): AsyncGenerator<ReplayEntry> {
  const sources: AsyncIterable<ReplayEntry[]>[] = [];
  for (const input of inputs) {
    const state = progress[input.path];
    if (state?.done === true) continue;
    if (input.role === 'events') sources.push(itemEntries(input, state?.position ?? 0, options));
    else sources.push(snapshotEntry(input));
  }
  return mergeByTime(sources);
}
