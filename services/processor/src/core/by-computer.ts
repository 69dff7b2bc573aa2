import { z } from 'zod';
import { type EnrichedEvent, type FindingKind, kafkaKeyOf } from '@calwatch/model';
import { firstIndexWhere, insertedAt, nextExpiry, pruneChain, uniqueSorted, withRecord } from './chain';
import type { CoreConfig } from './config';
import { buildEnrichedContext } from './enriched-context';
import { DroppedCal, droppedCalsView, unexpired, withDroppedHwids, withoutLicense } from './dropped-cals';
import { CORE_ERRORS } from './errors';
import { FindingTrack, advanceTrack, buildFindingId, hasOpenTrack, heldCandidatesDueAt, holdEndsAt, type DerivedFinding, type Evidence, type Resolution } from './finding-track';
import { HwidEntry } from './hwid-entry';
import { createNameSummaries } from './name-summary';
import { type LicenseRecord, recordKey, sharedServerName } from './license-record';
import { type ByComputerMessage, type StageOutput, type StageOptions, type StageResult } from './messages';
import { type CorruptedStoreView, deriveCorruptedStore, resolveCorruptedStore } from './rules/corrupted-store';
import { type DuplicateNameView, deriveDuplicateName, resolveDuplicateName } from './rules/duplicate-name';
import { type HwidChurnView, deriveHwidChurn, resolveHwidChurn } from './rules/hwid-churn';
import type { NameFacts } from './rules/name-view';
import { type RebuiltDeviceView, deriveRebuiltDevice, resolveRebuiltDevice } from './rules/rebuilt-device';
import { type Decoded, decodeState } from './state-codec';
import { type StateForm, isEmpty } from './state-store';
import { plural, shortHwid } from './text';
import { daysToMs } from './time';

export { HwidEntry };

/**
 * Stage `by-computer`, keyed by license server + normalised computer name. Sees every
 * HWID a name presented and tells apart why a name has several: churn (a new HWID again
 * and again), a rebuild (one new HWID, the old CAL orphaned), two live devices with one
 * name (benign), or a corrupted client store.
 */
export const ByComputerState = z.object({
  v: z.literal(1),
  server: z.string(),
  computer: z.string(),
  computerRaw: z.string(),
  clock: z.number(),
  /** Sorted by firstSeen then HWID. */
  hwids: z.array(HwidEntry),
  /** The newest client.store inventory of this computer. */
  store: z.object({ at: z.number(), eventId: z.string(), hwids: z.array(z.string()) }).nullable(),
  /** firstSeen of the newest HWID that arrived while churn held: those HWIDs are not rebuilds. */
  churnCoveredUpTo: z.number().nullable(),
  tracks: z.record(z.string(), FindingTrack),
  /**
   * The valid CALs of HWIDs dropped at the state.maxHwidsPerComputer cap, in chain order,
   * counted and planned until they expire (dropped-cals.ts; absent: none).
   */
  dropped: z.array(DroppedCal).optional(),
  /**
   * Valid CALs of dropped HWIDs that `dropped` could not keep (past
   * state.maxDroppedCalsPerComputer, or without an expiry date), and when the last was: the
   * rules say how many until they can all have expired (absent: none). The field's name is
   * from when it counted the dropped HWIDs, one CAL each.
   */
  beyondCap: z.object({ hwids: z.number().int().positive(), lastAt: z.number() }).optional(),
});
export type ByComputerState = z.infer<typeof ByComputerState>;

export interface ByComputerStage {
  process(key: string, message: ByComputerMessage, state: ByComputerState | undefined): StageResult<ByComputerState | undefined>;
  dueAt(state: ByComputerState): number | null;
}

type NameKind = 'corrupted-store' | 'hwid-churn' | 'rebuilt-device' | 'duplicate-name';
/** Explanations of several HWIDs on one name, strongest evidence first. */
const NAME_KINDS: readonly NameKind[] = ['corrupted-store', 'hwid-churn', 'rebuilt-device', 'duplicate-name'];
/** Enrichment picks the first open kind in this order. */
const CLASSIFICATION_ORDER: readonly FindingKind[] = [
  'cloned-image',
  'corrupted-store',
  'hwid-churn',
  'rebuilt-device',
  'pool-exhaustion',
  'duplicate-name',
];

interface Analysis {
  derived: Record<NameKind, DerivedFinding | null>;
  /** The view each rule was given, for its resolution texts. */
  views: { store: CorruptedStoreView; churn: HwidChurnView; rebuild: RebuiltDeviceView; duplicate: DuplicateNameView };
  /** Why a kind does not hold while it was open: used in the resolution note. */
  suppressedBy: Partial<Record<NameKind, NameKind>>;
}

export function createByComputerStage(config: CoreConfig, options: StageOptions = {}): ByComputerStage {
  const enriched = options.enriched ?? true;
  const churnQuietMs = daysToMs(config.churn.quietDays);
  const confirmMs = daysToMs(config.rebuild.confirmDays);
  const refreshMs = daysToMs(config.emit.refreshDays);
  const severityHoldMs = daysToMs(config.severity.holdDays);
  const capMemoryMs = daysToMs(config.lifecycle.permanentMaxDays);

  /** CALs of dropped HWIDs not kept, until none of them can be valid any more (permanentMaxDays). */
  const uncountedCalsOf = (state: ByComputerState) =>
    state.beyondCap !== undefined && state.clock - state.beyondCap.lastAt < capMemoryMs ? state.beyondCap.hwids : 0;

  /** Every license of the name, per HWID list (replaced, never changed): a step and its timer read it. */
  const licensesOf = new WeakMap<readonly HwidEntry[], LicenseRecord[]>();
  const allLicenses = (state: ByComputerState) => {
    let licenses = licensesOf.get(state.hwids);
    if (licenses === undefined) {
      // A plain loop: flatMap cost more than the rules that read the list.
      licenses = [];
      for (const h of state.hwids) for (const r of h.licenses) licenses.push(r);
      licensesOf.set(state.hwids, licenses);
    }
    return licenses;
  };
  /** Per HWID list: sorted HWIDs, license and key pack ids, newest sighting and update (name-summary.ts). */
  const names = createNameSummaries();
  const newestFirstSeen = (state: ByComputerState) => names.summaryOf(state.hwids).newest;

  function analyse(state: ByComputerState, clock: number): Analysis {
    const facts = nameFactsOf(state, clock);
    const store: CorruptedStoreView = { name: facts, store: state.store };
    const churn: HwidChurnView = { name: facts, open: state.tracks['hwid-churn']?.state === 'open' };
    const derived: Record<NameKind, DerivedFinding | null> = {
      'corrupted-store': deriveCorruptedStore(store, config),
      'hwid-churn': deriveHwidChurn(churn, config),
      'rebuilt-device': null,
      'duplicate-name': null,
    };
    // HWIDs that arrive while churn holds stay the churn's: the rebuild rule reads this.
    if (derived['hwid-churn'] !== null) state.churnCoveredUpTo = Math.max(state.churnCoveredUpTo ?? facts.newest, facts.newest);
    const rebuild: RebuiltDeviceView = {
      name: facts,
      open: state.tracks['rebuilt-device']?.state === 'open',
      churnCoveredUpTo: state.churnCoveredUpTo,
    };
    const duplicate: DuplicateNameView = { name: facts };

    // The strongest explanation wins; the weaker ones would count the same CALs again (and
    // are not derived: a churning name would walk its HWIDs for two rules that cannot win).
    const suppressedBy: Partial<Record<NameKind, NameKind>> = {};
    const winner = derived['corrupted-store'] !== null ? 'corrupted-store' : derived['hwid-churn'] !== null ? 'hwid-churn' : null;
    if (winner === null) {
      derived['rebuilt-device'] = deriveRebuiltDevice(rebuild, config);
      derived['duplicate-name'] = deriveDuplicateName(duplicate);
    } else {
      for (const kind of NAME_KINDS.slice(NAME_KINDS.indexOf(winner) + 1)) {
        derived[kind] = null;
        suppressedBy[kind] = winner;
      }
    }
    return { derived, views: { store, churn, rebuild, duplicate }, suppressedBy };
  }

  /** The view every name rule reads; lists the rules share are computed once. */
  function nameFactsOf(state: ByComputerState, clock: number): NameFacts {
    const summary = names.summaryOf(state.hwids);
    return {
      dropped: droppedCalsView(state.dropped),
      uncountedCals: uncountedCalsOf(state),
      server: state.server,
      computer: state.computer,
      name: state.computerRaw,
      clock,
      hwids: state.hwids,
      licenses: allLicenses(state),
      newest: state.hwids.length > 0 ? summary.newest : clock,
      lastSeen: summary.lastSeen === -Infinity ? clock : summary.lastSeen,
      keyPackIds: summary.keyPackIds,
      licenseIds: summary.licenseIds,
      allHwids: summary.hwids,
    };
  }

  function resolutionOf(kind: NameKind, state: ByComputerState, views: Analysis['views'], suppressedBy: NameKind | undefined): Resolution {
    if (suppressedBy !== undefined) {
      const name = state.computerRaw;
      return {
        summary: `${name}: now explained by the ${suppressedBy} finding`,
        remediation: `See the ${suppressedBy} finding for ${name}.`,
        note: `resolved: explained by ${suppressedBy}`,
      };
    }
    switch (kind) {
      case 'corrupted-store':
        return resolveCorruptedStore(views.store);
      case 'hwid-churn':
        return resolveHwidChurn(views.churn, config);
      case 'rebuilt-device':
        return resolveRebuiltDevice(views.rebuild);
      case 'duplicate-name':
        return resolveDuplicateName(views.duplicate);
    }
  }

  /** `evidence` is built only when the name has findings to feed. */
  function steps(state: ByComputerState, clock: number, evidence: () => Evidence[], outputs: StageOutput[], flush = false): void {
    if (state.dropped !== undefined) setDropped(state, unexpired(state.dropped, clock));
    // One HWID and a sane store explain nothing: the common, healthy case costs nothing.
    const quiet = state.hwids.length < 2 && (state.store === null || state.store.hwids.length < 2);
    if (quiet && isEmpty(state.tracks)) return;
    const { derived, views, suppressedBy } = analyse(state, clock);
    let built: Evidence[] | undefined;
    for (const kind of NAME_KINDS) {
      const track = state.tracks[kind];
      if (track === undefined && derived[kind] === null) continue;
      const result = advanceTrack({
        track,
        id: track?.id ?? buildFindingId(kind, state.server, state.computer),
        kind,
        licenseServer: state.server,
        derived: derived[kind],
        evidence: (built ??= evidence()),
        at: clock,
        timelineMax: config.state.timelineMax,
        refreshMs,
        severityHoldMs,
        candidateGrowth: config.emit.candidateGrowth,
        flush,
        resolution() {
          return resolutionOf(kind, state, views, suppressedBy[kind]);
        },
      });
      // Copy on write: the input state stays as it was.
      if (result.track !== undefined && result.track !== track) state.tracks = { ...state.tracks, [kind]: result.track };
      if (result.draft !== null) outputs.push({ topic: 'by-server', key: state.server, message: result.draft });
    }
  }


  function enrich(
    state: ByComputerState,
    event: EnrichedEvent['event'],
    hwid: { licenseIds: number[]; computers: string[]; findingIds: string[]; classification: FindingKind | 'healthy' },
    outputs: StageOutput[],
  ): void {
    if (!enriched) return;
    let classification: FindingKind | 'healthy' = hwid.classification;
    let findingIds = hwid.findingIds;
    if (!isEmpty(state.tracks)) {
      const open = NAME_KINDS.filter((k) => state.tracks[k]?.state === 'open');
      const kinds = new Set<FindingKind>(open);
      if (hwid.classification !== 'healthy') kinds.add(hwid.classification);
      classification = CLASSIFICATION_ORDER.find((k) => kinds.has(k)) ?? 'healthy';
      findingIds = [...findingIds, ...open.map((k) => state.tracks[k]!.id)];
    }
    const message: EnrichedEvent = {
      schemaVersion: 2,
      event,
      context: buildEnrichedContext({
        hwidLicenseIds: hwid.licenseIds,
        hwidComputers: hwid.computers,
        computerHwids: state.hwids.length <= 1 ? state.hwids.map((h) => h.hwid) : names.summaryOf(state.hwids).hwids,
        classification,
        findingIds: uniqueSorted(findingIds),
      }),
    };
    outputs.push({ topic: 'enriched', key: kafkaKeyOf(event), message });
  }

  function emptyState(server: string, computer: string, computerRaw: string, at: number): ByComputerState {
    return { v: 1, server: sharedServerName(server), computer, computerRaw: computerRaw === computer ? computer : computerRaw, clock: at, hwids: [], store: null, churnCoveredUpTo: null, tracks: EMPTY_TRACKS };
  }

  function checkKey(key: string, server: string, computer: string): void {
    // computerKey(server, computer) without building it for every message.
    const matches =
      key.length === server.length + 1 + computer.length &&
      key.charCodeAt(server.length) === 124 &&
      key.startsWith(server) &&
      key.endsWith(computer);
    if (!matches) {
      throw CORE_ERRORS.create('PROCESSOR_KEY_MISMATCH', `message for ${server}/${computer} routed to key ${key}`, {
        context: { key, server, computer },
      });
    }
  }

  return {
    process(key, message, current) {
      const outputs: StageOutput[] = [];
      if (message.type === 'tick') {
        if (current === undefined) return { state: undefined, outputs };
        // Stages return new state and leave their input untouched, so a throw changes nothing.
        const state: ByComputerState = { ...current, clock: Math.max(current.clock, message.at) };
        steps(state, state.clock, NO_EVIDENCE, outputs, message.flush === true);
        return finish(state, outputs);
      }

      if (message.type === 'client.store') {
        checkKey(key, message.licenseServer, message.computer.norm);
        const at = Date.parse(message.eventTime);
        const state: ByComputerState =
          current === undefined
            ? emptyState(message.licenseServer, message.computer.norm, message.computer.raw, at)
            : { ...current, clock: Math.max(current.clock, at) };
        if (state.store === null || at >= state.store.at) {
          state.store = { at, eventId: message.eventId, hwids: uniqueSorted(message.hwids.map((h) => h.norm)) };
        }
        const note = `client store lists ${plural(message.hwids.length, 'HWID')}`;
        steps(state, state.clock, () => [{ at, eventId: message.eventId, note }], outputs);
        enrich(state, message, { licenseIds: [], computers: [], findingIds: [], classification: 'healthy' }, outputs);
        return finish(state, outputs);
      }

      const { license, at } = message;
      checkKey(key, license.server, license.computer);
      const state: ByComputerState =
        current === undefined ? emptyState(license.server, license.computer, message.computerRaw, at) : { ...current, clock: Math.max(current.clock, at) };
      // A dropped CAL seen again re-enters the name's state as it is now (or moved away).
      if (state.dropped !== undefined) setDropped(state, withoutLicense(state.dropped, license));
      const index = state.hwids.findIndex((h) => h.hwid === license.hwid);
      const found = index >= 0 ? state.hwids[index] : undefined;
      if (message.moved) {
        if (found !== undefined) {
          const key = recordKey(license);
          const licenses = found.licenses.filter((r) => recordKey(r) !== key);
          state.hwids = licenses.length === 0 ? state.hwids.filter((h) => h !== found) : replaced(state.hwids, index, { ...found, licenses });
        }
      } else {
        // Entries are copied, never changed in place: the input state stays as it was.
        const entry: HwidEntry =
          found === undefined
            ? { hwid: license.hwid, firstSeen: license.issuedAt, lastAliveAt: license.aliveAt, licenses: [license] }
            : {
                ...found,
                firstSeen: Math.min(found.firstSeen, license.issuedAt),
                lastAliveAt: Math.max(found.lastAliveAt, license.aliveAt),
                licenses: withRecord(found.licenses, license),
              };
        const before = state.hwids;
        if (found === undefined) {
          state.hwids = before.length === 0 ? [entry] : withEntry(before, entry);
        } else {
          state.hwids = replaced(before, index, entry);
          if (entry.firstSeen !== found.firstSeen) state.hwids.sort(byFirstSeen);
        }
        names.follow(before, state.hwids, found, entry, license);
        // The same text as the name (the usual case): one string, not two.
        if (at >= state.clock) state.computerRaw = message.computerRaw === license.computer ? license.computer : message.computerRaw;
      }
      const event = message.event;
      steps(
        state,
        state.clock,
        () =>
          event === null
            ? []
            : [
                {
                  at,
                  eventId: event.eventId,
                  note: `CAL ${license.licenseId} ${event.type.slice('license.'.length)} (${license.status}) on HWID ${shortHwid(license.hwid)}`,
                },
              ],
        outputs,
      );
      if (message.event !== null) enrich(state, message.event, message.hwidContext, outputs);
      return finish(state, outputs);
    },

    dueAt(state) {
      // A rebuild waiting for confirmation needs a timer even with nothing open.
      const confirmAt = state.hwids.length >= 2 ? newestFirstSeen(state) + confirmMs : null;
      const pendingRebuild = confirmAt !== null && confirmAt > state.clock ? confirmAt : null;
      // Asked after every step of a name: most have no open finding, decided without a list.
      if (!hasOpenTrack(state.tracks)) return pendingRebuild;
      const open = NAME_KINDS.filter((k) => state.tracks[k]?.state === 'open');
      let due = nextExpiry(allLicenses(state), state.clock);
      const droppedExpiry = droppedCalsView(state.dropped).nextExpiry;
      if (droppedExpiry !== null && droppedExpiry > state.clock && (due === null || droppedExpiry < due)) due = droppedExpiry;
      if (pendingRebuild !== null && (due === null || pendingRebuild < due)) due = pendingRebuild;
      if (open.includes('hwid-churn') && state.hwids.length > 0) {
        const quietEnd = newestFirstSeen(state) + churnQuietMs;
        if (quietEnd > state.clock && (due === null || quietEnd < due)) due = quietEnd;
      }
      for (const kind of open) {
        for (const at of [holdEndsAt(state.tracks[kind]!, severityHoldMs), heldCandidatesDueAt(state.tracks[kind]!, refreshMs)]) {
          if (at !== null && at > state.clock && (due === null || at < due)) due = at;
        }
      }
      return due;
    },
  };

  function finish(state: ByComputerState, outputs: StageOutput[]): StageResult<ByComputerState | undefined> {
    const horizon = state.clock - daysToMs(config.state.retentionDays);
    // A cloned image's names hold hundreds of reissued CALs, a churning name 64 HWIDs: kept
    // bounds tell without reading them that no license is old enough to forget and no chain
    // is over its cap.
    const bounds = names.boundsOf(state.hwids);
    if (bounds === undefined || bounds.retainedFrom < horizon || bounds.longestChain > config.state.maxLicensesPerKey) {
      state.hwids = withoutForgotten(state.hwids, state.clock, horizon, config);
      names.measure(state.hwids);
    }
    if (state.hwids.length > config.state.maxHwidsPerComputer) {
      const before = state.hwids;
      const dropped = longestSilent(before, before.length - config.state.maxHwidsPerComputer);
      const gone = new Set(dropped);
      state.hwids = before.filter((h) => !gone.has(h));
      names.followDrop(before, state.hwids);
      // Their valid CALs stay counted and planned, in a few numbers each.
      const { list, overflow } = withDroppedHwids(state.dropped, dropped, state.clock, config.state.maxDroppedCalsPerComputer);
      if (list !== undefined) setDropped(state, list);
      if (overflow > 0) state.beyondCap = { hwids: uncountedCalsOf(state) + overflow, lastAt: state.clock };
    }
    if (state.beyondCap !== undefined && uncountedCalsOf(state) === 0) delete state.beyondCap;
    if (state.store !== null && state.store.at < horizon && state.store.hwids.length < 2) state.store = null;
    if (state.hwids.length === 0 && state.store === null && !hasOpenTrack(state.tracks)) return { state: undefined, outputs };
    return { state, outputs };
  }
}

const NO_EVIDENCE = (): Evidence[] => [];

/**
 * `hwids` without the licenses retention forgets or a chain's cap drops, and without the HWIDs
 * then left with no license and silent since before `horizon`: the same list when nothing goes.
 */
function withoutForgotten(hwids: HwidEntry[], clock: number, horizon: number, config: CoreConfig): HwidEntry[] {
  let kept = hwids;
  for (let i = 0; i < kept.length; i++) {
    const entry = kept[i]!;
    const licenses = pruneChain(entry.licenses, clock, config);
    if (licenses !== entry.licenses) {
      if (kept === hwids) kept = hwids.slice();
      kept[i] = { ...entry, licenses };
    }
  }
  return kept.every((h) => h.licenses.length > 0 || h.lastAliveAt >= horizon) ? kept : kept.filter((h) => h.licenses.length > 0 || h.lastAliveAt >= horizon);
}

/** `state` (a copy the step owns) with these dropped CALs; none leaves the field out. */
function setDropped(state: ByComputerState, list: DroppedCal[]): void {
  if (list === state.dropped) return;
  if (list.length > 0) state.dropped = list;
  else delete state.dropped;
}

/** Most names never get a finding: they all share one empty, frozen record until they do. */
const EMPTY_TRACKS: Record<string, FindingTrack> = Object.freeze({}) as Record<string, FindingTrack>;

function byFirstSeen(a: HwidEntry, b: HwidEntry): number {
  return a.firstSeen - b.firstSeen || (a.hwid < b.hwid ? -1 : a.hwid > b.hwid ? 1 : 0);
}

/** `hwids` (in byFirstSeen order) with `entry` inserted in its place: a churning name holds hundreds. */
function withEntry(hwids: readonly HwidEntry[], entry: HwidEntry): HwidEntry[] {
  return insertedAt(hwids, firstIndexWhere(hwids.length, (i) => byFirstSeen(hwids[i]!, entry) > 0), entry);
}

/**
 * The `count` entries silent longest (oldest lastAliveAt; of equal ones the later in the
 * list), in list order. A churning name at its cap drops one per boot: one pass then.
 */
function longestSilent(hwids: readonly HwidEntry[], count: number): HwidEntry[] {
  if (count === 1) {
    let at = 0;
    for (let i = 1; i < hwids.length; i++) if (hwids[i]!.lastAliveAt <= hwids[at]!.lastAliveAt) at = i;
    return [hwids[at]!];
  }
  const dropped = new Set([...hwids].sort((a, b) => b.lastAliveAt - a.lastAliveAt).slice(hwids.length - count));
  return hwids.filter((h) => dropped.has(h));
}

function replaced<T>(list: readonly T[], index: number, item: T): T[] {
  const copy = list.slice();
  copy[index] = item;
  return copy;
}

/**
 * A quiet name (one HWID with one license, no store inventory, no finding, spelled as
 * normalised, its clock the license's newest event) is kept as that license record alone:
 * the record its HWID's state holds too (state-store.ts).
 */
export const BY_COMPUTER_FORM: StateForm<ByComputerState, LicenseRecord> = {
  compact(state) {
    if (state.hwids.length !== 1 || state.store !== null || state.churnCoveredUpTo !== null || !isEmpty(state.tracks)) return state;
    if (state.dropped !== undefined || state.beyondCap !== undefined) return state;
    const entry = state.hwids[0]!;
    if (entry.licenses.length !== 1) return state;
    const record = entry.licenses[0]!;
    const same =
      state.clock === record.updatedAt &&
      entry.hwid === record.hwid &&
      entry.firstSeen === record.issuedAt &&
      entry.lastAliveAt === record.aliveAt &&
      state.server === record.server &&
      state.computer === record.computer &&
      state.computerRaw === record.computer;
    return same ? record : state;
  },
  isCompact: (stored): stored is LicenseRecord => (stored as Partial<ByComputerState>).v === undefined,
  expand: (record) => ({
    v: 1,
    server: record.server,
    computer: record.computer,
    computerRaw: record.computer,
    clock: record.updatedAt,
    hwids: [{ hwid: record.hwid, firstSeen: record.issuedAt, lastAliveAt: record.aliveAt, licenses: [record] }],
    store: null,
    churnCoveredUpTo: null,
    tracks: EMPTY_TRACKS,
  }),
};

export function decodeByComputerState(json: unknown): Decoded<ByComputerState> {
  return decodeState(ByComputerState, 'by-computer', json);
}
