import { z } from 'zod';

/**
 * Where a step sits in the global order the in-process pipeline follows: event time
 * first, then a tie-break string that sorts (by plain code-unit comparison) exactly like
 * the pipeline breaks ties:
 *  - a timer (tick) of stage rank r on key k:    "0" r k SEP depth path
 *  - an input event e and what it causes:         "1" e.eventId SEP depth path
 * so at one instant, ticks come before events (the pipeline fires timers <= t before the
 * event at t), ticks go by (stage, key), events by eventId; and everything one root step
 * causes is ordered breadth-first (depth, then the output indices on the way), which is
 * how the pipeline drains its queue.
 *
 * SEP (U+0001) sorts below every character ids and keys use, so a shorter id sorts first
 * as it does with `<`. Depth is two base-36 digits, each output index four, so two orders
 * of one root can only compare equal up to one's length when they are equal.
 */
export const OrderKey = z.object({ at: z.number(), order: z.string() });
export type OrderKey = z.infer<typeof OrderKey>;

const SEP = '\u0001';
/** Starts the suffix of an order moved forward past the last one a task emitted (see bumpOrder). */
const BUMP = '\u0002';
const DEPTH_WIDTH = 2;
const INDEX_WIDTH = 4;
const MAX_DEPTH = 36 ** DEPTH_WIDTH - 1;
const MAX_INDEX = 36 ** INDEX_WIDTH - 1;
const BUMP_WIDTH = 6;

function pad(value: number, width: number): string {
  return value.toString(36).padStart(width, '0');
}

/** The order of an input event (depth 0). */
export function buildEventOrder(eventId: string): string {
  return `1${eventId}${SEP}${pad(0, DEPTH_WIDTH)}`;
}

/** The order of a timer firing for one key of the stage with this rank (depth 0). */
export function buildTickOrder(stageRank: number, key: string): string {
  return `0${stageRank}${key}${SEP}${pad(0, DEPTH_WIDTH)}`;
}

/** The order of output `index` of the step with order `parent`: one level deeper. */
export function buildChildOrder(parent: string, index: number): string {
  const sep = parent.indexOf(SEP);
  if (sep < 0) throw new RangeError(`not an order: ${JSON.stringify(parent)}`);
  const root = parent.slice(0, sep + 1);
  const depth = Number.parseInt(parent.slice(sep + 1, sep + 1 + DEPTH_WIDTH), 36);
  const path = parent.slice(sep + 1 + DEPTH_WIDTH, sep + 1 + DEPTH_WIDTH + depth * INDEX_WIDTH);
  if (depth + 1 > MAX_DEPTH || index > MAX_INDEX || index < 0) throw new RangeError(`order out of range: depth ${depth + 1}, index ${index}`);
  return `${root}${pad(depth + 1, DEPTH_WIDTH)}${path}${pad(index, INDEX_WIDTH)}`;
}

export function compareOrderKeys(a: OrderKey, b: OrderKey): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  return a.order < b.order ? -1 : a.order > b.order ? 1 : 0;
}

export function isAfter(a: OrderKey, b: OrderKey | null): boolean {
  return b === null || compareOrderKeys(a, b) > 0;
}

/**
 * A key just after `last` and before any key a normal step can produce after it. A task
 * emits in increasing key order so that downstream can tell a repeat (key not after the
 * last one seen from that source) from news; an output whose natural key would break that
 * (a late message applied out of order) is moved here instead.
 */
export function bumpOrder(last: OrderKey): OrderKey {
  const mark = last.order.indexOf(BUMP);
  const base = mark < 0 ? last.order : last.order.slice(0, mark);
  const next = mark < 0 ? 0 : Number.parseInt(last.order.slice(mark + 1), 36) + 1;
  return { at: last.at, order: `${base}${BUMP}${pad(next, BUMP_WIDTH)}` };
}
