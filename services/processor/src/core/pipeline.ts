import { z } from 'zod';
import { CanonicalEvent, type CalwatchError, type EnrichedEvent, Finding, isEventTimeAhead, isLicenseLifecycleEvent, type Revocation } from '@calwatch/model';
import { MinHeap } from './min-heap';
import { BY_COMPUTER_FORM, ByComputerState, createByComputerStage } from './by-computer';
import { BY_HWID_FORM, ByHwidState, createByHwidStage } from './by-hwid';
import { ByServerState, createByServerStage } from './by-server';
import type { CoreConfig } from './config';
import { CORE_ERRORS } from './errors';
import { type StageOutput, computerKey } from './messages';
import { severityRank } from './severity';
import { toIso, toMs } from './time';
import { StateStore } from './state-store';

export type ApplyOutcome =
  | { status: 'accepted' }
  | { status: 'too-late'; error: CalwatchError }
  | { status: 'time-ahead'; error: CalwatchError };

export type StageName = 'by-hwid' | 'by-computer' | 'by-server';

/** Each stage's state type. */
export interface StageStates {
  'by-hwid': ByHwidState;
  'by-computer': ByComputerState;
  'by-server': ByServerState;
}

/** A state restored but not decoded yet (state-store.ts), with its timer's due time. */
export interface DeferredStageState {
  stage: StageName;
  key: string;
  /** When its timer is due (null: none); undefined when not known: decoded at once to learn it. */
  dueAt: number | null | undefined;
  source: unknown;
}

/** States a restore hands over undecoded, and how to decode one at its first use. */
export interface DeferredStates {
  states: Iterable<DeferredStageState>;
  /** The decoded state, or undefined to drop the key (the loader reports why). */
  load<K extends StageName>(stage: K, key: string, source: unknown): StageStates[K] | undefined;
}

/** A stage step that threw: its input, and the key whose state it left as it was. */
export interface FailedStep {
  stage: StageName;
  key: string;
  message: unknown;
  error: unknown;
}

export interface PipelineSinks {
  /** Every finding update, in emission order (what the findings topic would carry). */
  onFinding?(finding: Finding): void;
  /** One enriched event per applied input event, with the key it is published under. */
  onEnriched?(event: EnrichedEvent, key: string): void;
  /** A planned revocation that changed (planned, moved, withdrawn), with its key (server|license id). */
  onRevocation?(revocation: Revocation, key: string): void;
  /** A timer fires at `at` (event time): the steps that follow are its. */
  onTick?(at: number): void;
  /** A key's state was written (or deleted): what a changelog must carry. */
  onStateChange?(stage: StageName, key: string): void;
  /** An event entered (`held`) or left the lateness buffer. */
  onBuffer?(event: CanonicalEvent, held: boolean): void;
  /** An event left the buffer as a repeat of the one just applied (same time and eventId): dropped. */
  onDuplicate?(event: CanonicalEvent): void;
  /**
   * A stage threw. With this sink the step is skipped (its key's state stays as it was)
   * and the pipeline goes on; without it the error propagates to the caller.
   */
  onStepFailed?(failure: FailedStep): void;
}

export interface PipelineOptions {
  /** Keep every finding's latest update for findings() (the streaming runtime publishes them instead). */
  retainFindings?: boolean;
  /**
   * Keep quiet HWIDs and names as their one license record (default true; state-store.ts).
   * Off, every state is kept in full: the same results at about twice the memory.
   */
  compactQuietStates?: boolean;
  /**
   * Build one enriched event per applied input event (default true). Off, onEnriched is never
   * called and the stages skip the context of each event: for callers that read findings only.
   */
  enriched?: boolean;
  /** Restored states decoded at their first use, beside the snapshot's (the streaming runtime's restore). */
  deferred?: DeferredStates;
  /**
   * For a caller that holds its whole input before it applies it (analyze): the keys one
   * input event alone names. After that event a HWID's or a name's state is not kept if it is
   * compact (one license, no timer, no finding), since nothing can read it again. Most
   * devices of an export are such; kept, their states were most of the core's memory, and
   * every lookup in maps of a million keys missed the CPU's caches.
   */
  singleUse?: SingleUseKeys;
}

/**
 * Which keys one input event alone names, over a whole run. The caller counts every event it
 * will apply (a repeat counts too); a key it is unsure of is not single.
 *
 * Why that is enough: a HWID's state is reached by its own events and timers only, and a
 * compact state has no timer. A name's state is reached by client stores of the name and by
 * the HWID steps of events that name it (a license's name always comes from one of its
 * events), and by the next events of a HWID it holds (one that moves to another name tells
 * the name it left). So a compact name state, whose one license is of one HWID, can go once
 * the name and that HWID have both had their one event.
 */
export interface SingleUseKeys {
  /** No input event but one is of this HWID (its license.hwid.norm). */
  hwid(hwid: string): boolean;
  /** No input event but one names this by-computer key (`computerKey` of the event's server and normalised computer name). */
  computer(key: string): boolean;
}

/** Everything the in-process pipeline holds, as plain JSON (see decodePipelineSnapshot). */
export const PipelineSnapshot = z.object({
  v: z.literal(1),
  maxEventTime: z.number().nullable(),
  releasedUpTo: z.number().nullable(),
  buffer: z.array(CanonicalEvent),
  byHwid: z.record(z.string(), ByHwidState),
  byComputer: z.record(z.string(), ByComputerState),
  byServer: z.record(z.string(), ByServerState),
  findings: z.record(z.string(), Finding),
});
export type PipelineSnapshot = z.infer<typeof PipelineSnapshot>;

export interface PipelineStats {
  accepted: number;
  tooLate: number;
  /** Copies of an event applied already, dropped as they left the buffer. */
  duplicates: number;
  /** Refused: event time too far past the time vouched for (PROCESSOR_EVENT_TIME_AHEAD). */
  timeAhead: number;
  applied: number;
  ticks: number;
  findingUpdates: number;
  keys: { byHwid: number; byComputer: number; byServer: number };
}

export interface Pipeline {
  /** Buffers the event; it is applied in event-time order once the lateness has passed. */
  /**
   * `vouchedMs`: the newest time the caller can vouch for this event (the record's Kafka
   * timestamp); an event more than lateness.maxEventTimeSkewMs past it is refused before it
   * touches the clock. The core has no wall clock, so without it nothing is bounded.
   */
  apply(event: CanonicalEvent, vouchedMs?: number): ApplyOutcome;
  /** All input up to `instant` has been seen: apply what is buffered and let time pass. */
  advanceTo(instant: string | number): void;
  /**
   * Sends every open finding whose texts or timeline moved since its last update (updates
   * are otherwise held back until the verdict changes or the refresh period passes).
   * Call at the end of a replay so findings() is exact as of the last instant.
   */
  flush(): void;
  /** Current state of every finding, worst first. */
  findings(): Finding[];
  /** The newest event time seen (null before the first event). */
  watermark(): number | null;
  /** Events before this point are applied; null before the first event. */
  releasedUpTo(): number | null;
  /** The earliest buffered event or timer (null: nothing held). */
  nextDueAt(): number | null;
  /** A stage's state for one key (what onStateChange announced). */
  stateOf(stage: StageName, key: string): unknown;
  /** When the key's timer is due (null: none); a changelog keeps it beside the state. */
  dueAtOf(stage: StageName, key: string): number | null;
  stats(): PipelineStats;
  snapshot(): PipelineSnapshot;
}

const byKey = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
const STAGE_RANK: Record<StageName, number> = { 'by-hwid': 0, 'by-computer': 1, 'by-server': 2 };

interface Timer {
  at: number;
  stage: StageName;
  key: string;
}

interface Buffered {
  at: number;
  /** The event's id, beside its time: the buffer's order reads both on every comparison. */
  id: string;
  event: CanonicalEvent;
}

/**
 * The in-process runner: routes events through the three keyed stages with in-memory
 * queues. Deterministic: events are applied in (event time, eventId) order after the
 * allowed lateness, each input's outputs are drained breadth-first, and timers fire in
 * (time, stage, key) order, so any arrival order within the lateness gives the same result.
 */
export function createPipeline(config: CoreConfig, sinks: PipelineSinks = {}, restore?: PipelineSnapshot, options: PipelineOptions = {}): Pipeline {
  const retainFindings = options.retainFindings ?? true;
  const compact = options.compactQuietStates ?? true;
  const stageOptions = { enriched: options.enriched ?? true };
  const stages = {
    'by-hwid': createByHwidStage(config, stageOptions),
    'by-computer': createByComputerStage(config, stageOptions),
    'by-server': createByServerStage(config, stageOptions),
  };
  // Quiet HWIDs and names are kept as their one license record (state-store.ts).
  const deferred = options.deferred;
  const singleUse = options.singleUse;
  // A name's compact state is its one license record: it goes once that license's HWID is single too.
  const retireHwid = () => true;
  const retireName = (record: { hwid: string }) => singleUse!.hwid(record.hwid);
  const loaderOf = <K extends StageName>(stage: K) => deferred && ((key: string, source: unknown) => deferred.load(stage, key, source));
  const states = {
    'by-hwid': new StateStore(compact ? BY_HWID_FORM : undefined, restore?.byHwid, loaderOf('by-hwid')),
    'by-computer': new StateStore(compact ? BY_COMPUTER_FORM : undefined, restore?.byComputer, loaderOf('by-computer')),
    'by-server': new StateStore<ByServerState>(undefined, restore?.byServer, loaderOf('by-server')),
  };
  const findings = new Map<string, Finding>(Object.entries(restore?.findings ?? {}));
  const buffer = createEventBuffer();
  for (const event of restore?.buffer ?? []) buffer.push({ at: toMs(event.eventTime), id: event.eventId, event });
  // The last event applied: a repeat of it (a collector re-sent it) leaves the buffer right after it.
  let lastApplied: Buffered | undefined;
  const timers = new MinHeap<Timer>(
    (a, b) => a.at < b.at || (a.at === b.at && (STAGE_RANK[a.stage] < STAGE_RANK[b.stage] || (a.stage === b.stage && a.key < b.key))),
  );
  // Per stage, so a schedule needs no id string built per message.
  const due: Record<StageName, Map<string, number>> = { 'by-hwid': new Map(), 'by-computer': new Map(), 'by-server': new Map() };
  let maxEventTime: number | null = restore?.maxEventTime ?? null;
  let releasedUpTo: number | null = restore?.releasedUpTo ?? null;
  const stats: PipelineStats = { accepted: 0, tooLate: 0, duplicates: 0, timeAhead: 0, applied: 0, ticks: 0, findingUpdates: 0, keys: { byHwid: 0, byComputer: 0, byServer: 0 } };
  const queue: StageOutput[] = [];

  // A compact state has no timer.
  for (const stage of Object.keys(states) as StageName[]) {
    states[stage].forEachFull((key) => schedule(stage, key));
  }
  // Deferred states stay undecoded: their due time came with them.
  for (const { stage, key, dueAt, source } of deferred?.states ?? []) {
    states[stage].defer(key, source);
    if (dueAt === undefined) schedule(stage, key);
    else setDue(stage, key, dueAt);
  }

  function schedule(stage: StageName, key: string): void {
    let at: number | null = null;
    switch (stage) {
      case 'by-hwid': {
        const s = states['by-hwid'].get(key);
        at = s === undefined ? null : stages['by-hwid'].dueAt(s);
        break;
      }
      case 'by-computer': {
        const s = states['by-computer'].get(key);
        at = s === undefined ? null : stages['by-computer'].dueAt(s);
        break;
      }
      case 'by-server': {
        const s = states['by-server'].get(key);
        at = s === undefined ? null : stages['by-server'].dueAt(s);
        break;
      }
    }
    setDue(stage, key, at);
  }

  function setDue(stage: StageName, key: string, at: number | null): void {
    const dueOf = due[stage];
    if (at === null) {
      dueOf.delete(key);
      return;
    }
    if (dueOf.get(key) === at) return;
    dueOf.set(key, at);
    timers.push({ at, stage, key });
  }

  // The new state's due time is taken from the result, not looked up again: on a fleet of
  // 100,000 keys every lookup in a state map is a handful of cache misses.
  function run(stage: StageName, key: string, message: unknown): void {
    if (sinks.onStepFailed === undefined) return step(stage, key, message);
    try {
      step(stage, key, message);
    } catch (error) {
      sinks.onStepFailed({ stage, key, message, error });
    }
  }

  function step(stage: StageName, key: string, message: unknown): void {
    let outputs: StageOutput[];
    let at: number | null;
    switch (stage) {
      case 'by-hwid': {
        const result = stages['by-hwid'].process(key, message as Parameters<(typeof stages)['by-hwid']['process']>[1], states['by-hwid'].get(key));
        if (result.state !== undefined && singleUse !== undefined && singleUse.hwid(key)) states['by-hwid'].setUnlessRetired(key, result.state, retireHwid);
        else store(states['by-hwid'], key, result.state);
        at = result.state === undefined ? null : stages['by-hwid'].dueAt(result.state);
        outputs = result.outputs;
        break;
      }
      case 'by-computer': {
        const result = stages['by-computer'].process(key, message as Parameters<(typeof stages)['by-computer']['process']>[1], states['by-computer'].get(key));
        if (result.state !== undefined && singleUse !== undefined && singleUse.computer(key)) states['by-computer'].setUnlessRetired(key, result.state, retireName);
        else store(states['by-computer'], key, result.state);
        at = result.state === undefined ? null : stages['by-computer'].dueAt(result.state);
        outputs = result.outputs;
        break;
      }
      case 'by-server': {
        const result = stages['by-server'].process(key, message as Parameters<(typeof stages)['by-server']['process']>[1], states['by-server'].get(key));
        store(states['by-server'], key, result.state);
        at = result.state === undefined ? null : stages['by-server'].dueAt(result.state);
        outputs = result.outputs;
        break;
      }
    }
    sinks.onStateChange?.(stage, key);
    setDue(stage, key, at);
    for (const output of outputs) queue.push(output);
  }

  function store<S, C>(map: StateStore<S, C>, key: string, state: S | undefined): void {
    if (state === undefined) map.delete(key);
    else map.set(key, state);
  }

  function drain(): void {
    for (let i = 0; i < queue.length; i++) {
      const output = queue[i]!;
      switch (output.topic) {
        case 'by-computer':
          run('by-computer', output.key, output.message);
          break;
        case 'by-server':
          run('by-server', output.key, output.message);
          break;
        case 'enriched':
          sinks.onEnriched?.(output.message, output.key);
          break;
        case 'revocations':
          sinks.onRevocation?.(output.message, output.key);
          break;
        case 'findings':
          if (retainFindings) findings.set(output.key, output.message);
          stats.findingUpdates++;
          sinks.onFinding?.(output.message);
          break;
      }
    }
    queue.length = 0;
  }

  function fireTimers(upTo: number): void {
    for (let next = timers.peek(); next !== undefined && next.at <= upTo; next = timers.peek()) {
      timers.pop();
      const dueOf = due[next.stage];
      if (dueOf.get(next.key) !== next.at) continue;
      dueOf.delete(next.key);
      stats.ticks++;
      sinks.onTick?.(next.at);
      run(next.stage, next.key, { type: 'tick', at: next.at });
      drain();
    }
  }

  function tick(stage: StageName, key: string, at: number): void {
    sinks.onTick?.(at);
    run(stage, key, { type: 'tick', at, flush: true });
    drain();
  }

  function route(event: CanonicalEvent): void {
    stats.applied++;
    if (isLicenseLifecycleEvent(event)) run('by-hwid', event.license.hwid.norm, event);
    else if (event.type === 'client.store') run('by-computer', computerKey(event.licenseServer, event.computer.norm), event);
    else run('by-server', event.licenseServer, event);
    drain();
  }

  function release(upTo: number, inclusive: boolean): void {
    for (let next = buffer.peek(); next !== undefined && (inclusive ? next.at <= upTo : next.at < upTo); next = buffer.peek()) {
      buffer.pop();
      sinks.onBuffer?.(next.event, false);
      // The buffer's order puts copies of one event side by side: the first is applied.
      if (lastApplied !== undefined && next.at === lastApplied.at && next.id === lastApplied.id) {
        stats.duplicates++;
        sinks.onDuplicate?.(next.event);
        continue;
      }
      lastApplied = next;
      fireTimers(next.at);
      route(next.event);
    }
  }

  return {
    apply(event, vouchedMs) {
      const at = toMs(event.eventTime);
      if (vouchedMs !== undefined && isEventTimeAhead(at, vouchedMs, config.lateness.maxEventTimeSkewMs)) {
        stats.timeAhead++;
        return {
          status: 'time-ahead',
          error: CORE_ERRORS.create(
            'PROCESSOR_EVENT_TIME_AHEAD',
            `event ${event.eventId} at ${event.eventTime} is more than ${config.lateness.maxEventTimeSkewMs} ms past its record time ${toIso(vouchedMs)}`,
            { context: { eventId: event.eventId, eventTime: event.eventTime, vouchedAt: toIso(vouchedMs) } },
          ),
        };
      }
      if (releasedUpTo !== null && at < releasedUpTo) {
        stats.tooLate++;
        return {
          status: 'too-late',
          error: CORE_ERRORS.create('PROCESSOR_EVENT_TOO_LATE', `event ${event.eventId} at ${event.eventTime} is behind ${toIso(releasedUpTo)}`, {
            context: { eventId: event.eventId, eventTime: event.eventTime, releasedUpTo: toIso(releasedUpTo) },
          }),
        };
      }
      // A copy re-sent while the first still waits is dropped when it leaves the buffer (release):
      // keeping a set of the waiting ids cost three lookups of a new string per event.
      stats.accepted++;
      buffer.push({ at, id: event.eventId, event });
      sinks.onBuffer?.(event, true);
      maxEventTime = maxEventTime === null ? at : Math.max(maxEventTime, at);
      const horizon = maxEventTime - config.lateness.allowedLatenessMs;
      if (releasedUpTo === null || horizon > releasedUpTo) {
        releasedUpTo = horizon;
        release(horizon, false);
      }
      return { status: 'accepted' };
    },

    advanceTo(instant) {
      const at = typeof instant === 'number' ? instant : toMs(instant);
      release(at, true);
      fireTimers(at);
      releasedUpTo = releasedUpTo === null ? at : Math.max(releasedUpTo, at);
    },

    flush() {
      const open = (tracks: Record<string, { state: string }>) => {
        for (const id in tracks) if (tracks[id]!.state === 'open') return true;
        return false;
      };
      // Only states kept in full can have an open finding.
      const due = <S extends { clock: number }, C>(map: StateStore<S, C>, wanted: (s: S) => boolean) => {
        const keys: [string, number][] = [];
        map.forEachFull((key, s) => {
          if (wanted(s)) keys.push([key, s.clock]);
        });
        return keys.sort(byKey);
      };
      for (const [key, at] of due(states['by-hwid'], (s) => open(s.tracks))) tick('by-hwid', key, at);
      for (const [key, at] of due(states['by-computer'], (s) => open(s.tracks))) tick('by-computer', key, at);
      for (const [key, at] of due(states['by-server'], (s) => open(s.poolTracks) || open(s.spikeTracks) || s.plan.dirty)) tick('by-server', key, at);
    },

    findings() {
      return [...findings.values()].sort(
        (a, b) =>
          (a.state === b.state ? 0 : a.state === 'open' ? -1 : 1) ||
          severityRank(b.severity) - severityRank(a.severity) ||
          b.leakedCals - a.leakedCals ||
          (a.firstSeen < b.firstSeen ? -1 : a.firstSeen > b.firstSeen ? 1 : 0) ||
          (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      );
    },

    watermark() {
      return maxEventTime;
    },

    releasedUpTo() {
      return releasedUpTo;
    },

    nextDueAt() {
      let next: number | null = buffer.peek()?.at ?? null;
      for (let timer = timers.peek(); timer !== undefined; timer = timers.peek()) {
        // Stale heap entries (a key re-armed or disarmed since) are dropped here.
        if (due[timer.stage].get(timer.key) !== timer.at) {
          timers.pop();
          continue;
        }
        if (next === null || timer.at < next) next = timer.at;
        break;
      }
      return next;
    },

    stateOf(stage, key) {
      return states[stage].get(key);
    },

    dueAtOf(stage, key) {
      return due[stage].get(key) ?? null;
    },

    stats() {
      return {
        ...stats,
        keys: { byHwid: states['by-hwid'].size, byComputer: states['by-computer'].size, byServer: states['by-server'].size },
      };
    },

    snapshot() {
      return structuredClone({
        v: 1 as const,
        maxEventTime,
        releasedUpTo,
        buffer: buffer.toArray().sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1)).map((b) => b.event),
        byHwid: Object.fromEntries(states['by-hwid'].entries()),
        byComputer: Object.fromEntries(states['by-computer'].entries()),
        byServer: Object.fromEntries(states['by-server'].entries()),
        findings: Object.fromEntries(findings),
      });
    },
  };
}

const bufferedBefore = (a: Buffered, b: Buffered) => a.at < b.at || (a.at === b.at && a.id < b.id);

/**
 * The events waiting for the allowed lateness, in (event time, eventId) order. Input almost
 * always arrives in that order: such events queue in arrival order at no cost, and only the
 * stragglers pay for the heap.
 */
function createEventBuffer() {
  const heap = new MinHeap<Buffered>(bufferedBefore);
  let queue: Buffered[] = [];
  let head = 0;
  return {
    push(item: Buffered): void {
      const tail = queue.length > head ? queue[queue.length - 1]! : undefined;
      if (tail === undefined || !bufferedBefore(item, tail)) queue.push(item);
      else heap.push(item);
    },
    peek(): Buffered | undefined {
      const first = head < queue.length ? queue[head] : undefined;
      const top = heap.peek();
      if (first === undefined) return top;
      return top !== undefined && bufferedBefore(top, first) ? top : first;
    },
    pop(): void {
      const first = head < queue.length ? queue[head] : undefined;
      const top = heap.peek();
      if (first === undefined || (top !== undefined && bufferedBefore(top, first))) {
        heap.pop();
        return;
      }
      head++;
      if (head === queue.length) {
        queue = [];
        head = 0;
      } else if (head >= 1024 && head * 2 >= queue.length) {
        queue = queue.slice(head);
        head = 0;
      }
    },
    toArray(): Buffered[] {
      return [...queue.slice(head), ...heap.toArray()];
    },
  };
}

/** Decodes a pipeline snapshot read back from storage (a coded error, never a cast). */
export function decodePipelineSnapshot(json: unknown): { ok: true; snapshot: PipelineSnapshot } | { ok: false; error: CalwatchError } {
  const result = PipelineSnapshot.safeParse(json);
  if (result.success) return { ok: true, snapshot: result.data };
  return {
    ok: false,
    error: CORE_ERRORS.create('PROCESSOR_STATE_INVALID', 'pipeline snapshot failed its schema', {
      context: { issues: result.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message })) },
    }),
  };
}
