import { z } from 'zod';
import { type EnrichedEvent, type FindingKind, kafkaKeyOf } from '@calwatch/shared';
import { compareRecords, nextExpiry, pruneChain, splitInUse, uniqueSorted, withRecord } from './chain';
import type { CoreConfig } from './config';
import { buildEnrichedContext } from './enriched-context';
import { CORE_ERRORS } from './errors';
import { FindingTrack, advanceTrack, buildFindingId, hasOpenTrack, type DerivedFinding, type Evidence } from './finding-track';
import { LicenseRecord, holdsCalAt, isValidAt, recordKey } from './license-record';
import { type ByComputerMessage, type StageOutput, type StageResult } from './messages';
import { leakSeverity } from './severity';
import { type Decoded, decodeState } from './state-codec';
import { REVOKE_HOW, listOf, plural, shortHwid } from './text';
import { DAY_MS, daysToMs, toDay } from './time';

/** One HWID as one name presented it. */
export const HwidEntry = z.object({
  hwid: z.string(),
  raw: z.string(),
  /** Earliest issue date of a license of this HWID under this name. */
  firstSeen: z.number(),
  /** Latest moment this HWID's device certainly connected (see LicenseRecord.aliveAt). */
  lastAliveAt: z.number(),
  licenses: z.array(LicenseRecord),
});
export type HwidEntry = z.infer<typeof HwidEntry>;

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
  /** Why a kind does not hold while it was open: used in the resolution note. */
  suppressedBy: Partial<Record<NameKind, NameKind>>;
}

export function createByComputerStage(config: CoreConfig): ByComputerStage {
  const churnWindowMs = daysToMs(config.churn.windowDays);
  const churnQuietMs = daysToMs(config.churn.quietDays);
  const confirmMs = daysToMs(config.rebuild.confirmDays);
  const refreshMs = daysToMs(config.emit.refreshDays);

  const allLicenses = (state: ByComputerState) => state.hwids.flatMap((h) => h.licenses);
  const newestFirstSeen = (state: ByComputerState) => Math.max(...state.hwids.map((h) => h.firstSeen));
  /** Showed no life since the newest HWID of the name appeared. */
  const isSuperseded = (entry: HwidEntry, newest: number) => entry.lastAliveAt < newest;

  function analyse(state: ByComputerState, clock: number): Analysis {
    const name = state.computerRaw;
    const server = state.server;
    const licenses = allLicenses(state);
    const newest = state.hwids.length > 0 ? newestFirstSeen(state) : clock;
    const lastSeen = licenses.length > 0 ? Math.max(...licenses.map((r) => r.updatedAt)) : clock;
    const keyPackIds = uniqueSorted(licenses.map((r) => r.keyPackId));
    const licenseIds = uniqueSorted(licenses.map((r) => r.licenseId));
    const allHwids = uniqueSorted(state.hwids.map((h) => h.hwid));
    const candidatesOf = (records: readonly LicenseRecord[]) =>
      [...records].sort(compareRecords).map((r) => ({ licenseId: r.licenseId, keyPackId: r.keyPackId, expiresAt: r.expiresAt }));
    const derived: Record<NameKind, DerivedFinding | null> = {
      'corrupted-store': null,
      'hwid-churn': null,
      'rebuilt-device': null,
      'duplicate-name': null,
    };

    // One device under this name: every valid permanent CAL beyond the newest license is surplus.
    const nameSurplus = () => splitInUse(licenses, () => 'device', clock).surplus;

    const store = state.store;
    if (store !== null && store.hwids.length >= 2) {
      const surplus = nameSurplus();
      derived['corrupted-store'] = {
        severity: leakSeverity(surplus.length, 0, config),
        hwids: uniqueSorted([...store.hwids, ...allHwids]),
        computers: [state.computer],
        licenseIds,
        keyPackIds,
        candidates: candidatesOf(surplus),
        firstSeen: store.at,
        lastSeen: Math.max(lastSeen, store.at),
        describe: () => ({
          summary:
            `${name}'s client license store holds ${plural(store.hwids.length, 'HWID')} on ${server}; ` +
            `${plural(surplus.length, 'CAL')} held beyond the one in use`,
          remediation:
            `Corrupted client license store: on ${name} delete HKLM\\SOFTWARE\\Microsoft\\MSLicensing (HardwareID and Store), ` +
            `then connect once with the Remote Desktop client run as administrator so it recreates a single HWID` +
            (surplus.length > 0 ? `; then revoke the ${plural(surplus.length, 'leaked CAL')} per the revoke plan (${REVOKE_HOW}).` : '.'),
        }),
        history: () => [{ at: store.at, eventId: store.eventId, note: `store lists HWIDs ${store.hwids.map(shortHwid).join(', ')}` }],
      };
    }

    const recent = state.hwids.filter((h) => h.firstSeen > clock - churnWindowMs && h.firstSeen <= clock);
    // Opens on enough new HWIDs lately; once open it holds while new HWIDs keep coming
    // within the quiet period (a deletion script every two weeks never has many at once).
    const churnOpen = state.tracks['hwid-churn']?.state === 'open';
    if ((recent.length >= config.churn.minHwids || churnOpen) && state.hwids.length > 0 && clock - newest < churnQuietMs) {
      state.churnCoveredUpTo = Math.max(state.churnCoveredUpTo ?? newest, newest);
      const surplus = nameSurplus();
      const newLastWeek = state.hwids.filter((h) => h.firstSeen > clock - 7 * DAY_MS && h.firstSeen <= clock).length;
      const firstSeen = recent.length > 0 ? Math.min(...recent.map((h) => h.firstSeen)) : newest;
      derived['hwid-churn'] = {
        severity: leakSeverity(surplus.length, newLastWeek, config),
        hwids: allHwids,
        computers: [state.computer],
        licenseIds,
        keyPackIds,
        candidates: candidatesOf(surplus),
        firstSeen,
        lastSeen,
        describe: () => ({
          summary:
            `${name} presented ${plural(recent.length, 'new HWID')} in the last ${config.churn.windowDays} days on ${server} ` +
            `(${state.hwids.length} in all); ${plural(surplus.length, 'CAL')} held beyond the one in use`,
          remediation:
            `${name} does not keep its client license store: HKLM\\SOFTWARE\\Microsoft\\MSLicensing is lost on every reset ` +
            `(non-persistent VDI, a provisioned image that is reset, or a script deleting the key). Keep the key in the golden image ` +
            `and on persistent storage, stop the script that deletes it, or license this collection per user` +
            (surplus.length > 0 ? `; then revoke the ${plural(surplus.length, 'leaked CAL')} per the revoke plan (${REVOKE_HOW}).` : '.'),
        }),
        history: () => state.hwids
          .filter((h) => h.firstSeen >= firstSeen)
          .map((h) => ({
            at: h.firstSeen,
            eventId: h.licenses[0]?.eventId ?? `hwid:${h.hwid}`,
            note: `new HWID ${shortHwid(h.hwid)}` + (h.licenses[0] ? ` (CAL ${h.licenses[0].licenseId})` : ''),
          })),
      };
    }

    const superseded = state.hwids.filter((h) => isSuperseded(h, newest));
    const orphans = superseded.flatMap((h) => h.licenses.filter((r) => holdsCalAt(r, clock)));
    const rebuiltOpen = state.tracks['rebuilt-device']?.state === 'open';
    // HWIDs that came during a churn episode are that churn's, even after it went quiet.
    const churned = state.churnCoveredUpTo !== null && newest <= state.churnCoveredUpTo;
    if (orphans.length > 0 && !churned && (rebuiltOpen || clock - newest >= confirmMs)) {
      const current = state.hwids.filter((h) => h.firstSeen === newest);
      const oldHwids = uniqueSorted(orphans.map((r) => r.hwid));
      const until = Math.max(...orphans.map((r) => r.expiresAt ?? clock));
      const ids = orphans.map((r) => r.licenseId).sort((a, b) => a - b);
      derived['rebuilt-device'] = {
        severity: leakSeverity(orphans.length, 0, config),
        hwids: uniqueSorted([...oldHwids, ...current.map((h) => h.hwid)]),
        computers: [state.computer],
        licenseIds: uniqueSorted([...orphans.map((r) => r.licenseId), ...current.flatMap((h) => h.licenses.map((r) => r.licenseId))]),
        keyPackIds: uniqueSorted(orphans.map((r) => r.keyPackId)),
        candidates: candidatesOf(orphans),
        firstSeen: newest,
        lastSeen,
        describe: () => ({
          summary:
            `${name} now presents HWID ${listOf(current.map((h) => shortHwid(h.hwid)))} on ${server}; ` +
            `${plural(orphans.length, 'CAL')} of its old HWID ${listOf(oldHwids.map(shortHwid))} (${listOf(ids.map(String))}) ` +
            `orphaned until ${toDay(until)}`,
          remediation:
            `The device was rebuilt or reimaged and got a new HWID. Revoke the orphaned ${ids.length === 1 ? 'CAL' : 'CALs'} ` +
            `${listOf(ids.map(String), 8)} (${REVOKE_HOW}) to return ${ids.length === 1 ? 'it' : 'them'} now; otherwise ` +
            `${ids.length === 1 ? 'it returns by itself' : 'they return by themselves'} on ${toDay(until)}.`,
        }),
        history: () => [
          ...orphans.map((r) => ({ at: r.issuedAt, eventId: r.eventId, note: `CAL ${r.licenseId} issued to HWID ${shortHwid(r.hwid)}` })),
          ...current.map((h) => ({
            at: h.firstSeen,
            eventId: h.licenses[0]?.eventId ?? `hwid:${h.hwid}`,
            note: `new HWID ${shortHwid(h.hwid)} presented` + (h.licenses[0] ? ` (CAL ${h.licenses[0].licenseId})` : ''),
          })),
        ].sort((a, b) => a.at - b.at),
      };
    }

    const live = state.hwids.filter((h) => !isSuperseded(h, newest) && h.licenses.some((r) => isValidAt(r, clock)));
    if (live.length >= 2) {
      const hwids = uniqueSorted(live.map((h) => h.hwid));
      derived['duplicate-name'] = {
        severity: 'info',
        hwids,
        computers: [state.computer],
        licenseIds: uniqueSorted(live.flatMap((h) => h.licenses.map((r) => r.licenseId))),
        keyPackIds: uniqueSorted(live.flatMap((h) => h.licenses.map((r) => r.keyPackId))),
        candidates: [],
        firstSeen: Math.min(...live.map((h) => h.firstSeen)),
        lastSeen,
        describe: () => ({
          summary:
            `${plural(live.length, 'live device')} share the name ${name} on ${server} (HWIDs ${listOf(hwids.map(shortHwid))}), ` +
            `each keeping its own CAL: not a leak`,
          remediation: `No CAL is leaked. Give the devices unique names so reports, revocations and support can tell them apart.`,
        }),
        history: () => live.map((h) => ({
          at: h.lastAliveAt,
          eventId: h.licenses.at(-1)?.eventId ?? `hwid:${h.hwid}`,
          note: `HWID ${shortHwid(h.hwid)} alive on ${toDay(h.lastAliveAt)}`,
        })),
      };
    }

    // The strongest explanation wins; the weaker ones would count the same CALs again.
    const suppressedBy: Partial<Record<NameKind, NameKind>> = {};
    const winner = derived['corrupted-store'] !== null ? 'corrupted-store' : derived['hwid-churn'] !== null ? 'hwid-churn' : null;
    if (winner !== null) {
      for (const kind of NAME_KINDS.slice(NAME_KINDS.indexOf(winner) + 1)) {
        derived[kind] = null;
        suppressedBy[kind] = winner;
      }
    }
    return { derived, suppressedBy };
  }

  function resolutionOf(kind: NameKind, state: ByComputerState, clock: number, suppressedBy: NameKind | undefined) {
    const name = state.computerRaw;
    if (suppressedBy !== undefined) {
      return {
        summary: `${name}: now explained by the ${suppressedBy} finding`,
        remediation: `See the ${suppressedBy} finding for ${name}.`,
        note: `resolved: explained by ${suppressedBy}`,
      };
    }
    switch (kind) {
      case 'corrupted-store':
        return {
          summary: `${name}'s client license store holds a single HWID again`,
          remediation: 'Nothing to do.',
          note: 'resolved: store repaired',
        };
      case 'hwid-churn':
        return {
          summary: `${name} has kept its HWID for ${config.churn.quietDays} days: the churn stopped`,
          remediation: 'Nothing to do; CALs issued during the churn return by themselves when they expire.',
          note: `resolved: no new HWID for ${config.churn.quietDays} days`,
        };
      case 'rebuilt-device': {
        const newest = state.hwids.length > 0 ? newestFirstSeen(state) : clock;
        const revived = state.hwids.some((h) => h.firstSeen < newest && !isSuperseded(h, newest));
        return revived
          ? {
              summary: `${name}: the old HWID is still renewing, so this was not a rebuild (see duplicate-name)`,
              remediation: 'Nothing to revoke: both HWIDs belong to live devices.',
              note: 'resolved: old HWID renewed after the new one appeared',
            }
          : {
              summary: `${name}: the orphaned CALs of the old HWID expired, were returned or were revoked`,
              remediation: 'Nothing to do.',
              note: 'resolved: no orphaned CAL left',
            };
      }
      case 'duplicate-name':
        return {
          summary: `${name} is no longer used by several live devices`,
          remediation: 'Nothing to do.',
          note: 'resolved: one live device left',
        };
    }
  }

  /** `evidence` is built only when the name has findings to feed. */
  function steps(state: ByComputerState, clock: number, evidence: () => Evidence[], outputs: StageOutput[], flush = false): void {
    // One HWID and a sane store explain nothing: the common, healthy case costs nothing.
    const quiet = state.hwids.length < 2 && (state.store === null || state.store.hwids.length < 2);
    if (quiet && isEmpty(state.tracks)) return;
    const { derived, suppressedBy } = analyse(state, clock);
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
        flush,
        resolution: () => resolutionOf(kind, state, clock, suppressedBy[kind]),
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
    let classification: FindingKind | 'healthy' = hwid.classification;
    let findingIds = hwid.findingIds;
    if (!isEmpty(state.tracks)) {
      const open = NAME_KINDS.filter((k) => state.tracks[k]?.state === 'open');
      const kinds = new Set<FindingKind>(open);
      if (hwid.classification !== 'healthy') kinds.add(hwid.classification);
      classification = CLASSIFICATION_ORDER.find((k) => kinds.has(k)) ?? 'healthy';
      findingIds = [...findingIds, ...open.map((k) => state.tracks[k]!.id)];
    }
    const enriched: EnrichedEvent = {
      schemaVersion: 2,
      event,
      context: buildEnrichedContext({
        hwidLicenseIds: hwid.licenseIds,
        hwidComputers: hwid.computers,
        computerHwids: state.hwids.length === 1 ? [state.hwids[0]!.hwid] : uniqueSorted(state.hwids.map((h) => h.hwid)),
        classification,
        findingIds: uniqueSorted(findingIds),
      }),
    };
    outputs.push({ topic: 'enriched', key: kafkaKeyOf(event), message: enriched });
  }

  function emptyState(server: string, computer: string, computerRaw: string, at: number): ByComputerState {
    return { v: 1, server, computer, computerRaw, clock: at, hwids: [], store: null, churnCoveredUpTo: null, tracks: EMPTY_TRACKS };
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
            ? { hwid: license.hwid, raw: message.hwidRaw, firstSeen: license.issuedAt, lastAliveAt: license.aliveAt, licenses: [license] }
            : {
                ...found,
                firstSeen: Math.min(found.firstSeen, license.issuedAt),
                lastAliveAt: Math.max(found.lastAliveAt, license.aliveAt),
                licenses: withRecord(found.licenses, license),
              };
        if (found === undefined) {
          state.hwids = state.hwids.length === 0 ? [entry] : [...state.hwids, entry].sort(byFirstSeen);
        } else {
          state.hwids = replaced(state.hwids, index, entry);
          if (entry.firstSeen !== found.firstSeen) state.hwids.sort(byFirstSeen);
        }
        if (at >= state.clock) state.computerRaw = message.computerRaw;
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
      const open = NAME_KINDS.filter((k) => state.tracks[k]?.state === 'open');
      // A rebuild waiting for confirmation needs a timer even with nothing open.
      const confirmAt = state.hwids.length >= 2 ? newestFirstSeen(state) + confirmMs : null;
      const pendingRebuild = confirmAt !== null && confirmAt > state.clock ? confirmAt : null;
      if (open.length === 0) return pendingRebuild;
      let due = nextExpiry(allLicenses(state), state.clock);
      if (pendingRebuild !== null && (due === null || pendingRebuild < due)) due = pendingRebuild;
      if (open.includes('hwid-churn') && state.hwids.length > 0) {
        const quietEnd = newestFirstSeen(state) + churnQuietMs;
        if (quietEnd > state.clock && (due === null || quietEnd < due)) due = quietEnd;
      }
      return due;
    },
  };

  function finish(state: ByComputerState, outputs: StageOutput[]): StageResult<ByComputerState | undefined> {
    const horizon = state.clock - daysToMs(config.state.retentionDays);
    let hwids = state.hwids;
    for (let i = 0; i < hwids.length; i++) {
      const entry = hwids[i]!;
      const licenses = pruneChain(entry.licenses, state.clock, config);
      if (licenses !== entry.licenses) {
        if (hwids === state.hwids) hwids = hwids.slice();
        hwids[i] = { ...entry, licenses };
      }
    }
    state.hwids = hwids.every((h) => h.licenses.length > 0 || h.lastAliveAt >= horizon)
      ? hwids
      : hwids.filter((h) => h.licenses.length > 0 || h.lastAliveAt >= horizon);
    if (state.hwids.length > config.state.maxHwidsPerComputer) {
      const keep = new Set(
        [...state.hwids].sort((a, b) => b.lastAliveAt - a.lastAliveAt).slice(0, config.state.maxHwidsPerComputer),
      );
      state.hwids = state.hwids.filter((h) => keep.has(h));
    }
    if (state.store !== null && state.store.at < horizon && state.store.hwids.length < 2) state.store = null;
    if (state.hwids.length === 0 && state.store === null && !hasOpenTrack(state.tracks)) return { state: undefined, outputs };
    return { state, outputs };
  }
}

const NO_EVIDENCE = (): Evidence[] => [];

/** Most names never get a finding: they all share one empty, frozen record until they do. */
const EMPTY_TRACKS: Record<string, FindingTrack> = Object.freeze({}) as Record<string, FindingTrack>;

function isEmpty(record: object): boolean {
  for (const _ in record) return false;
  return true;
}

function byFirstSeen(a: HwidEntry, b: HwidEntry): number {
  return a.firstSeen - b.firstSeen || (a.hwid < b.hwid ? -1 : a.hwid > b.hwid ? 1 : 0);
}

function replaced<T>(list: readonly T[], index: number, item: T): T[] {
  const copy = list.slice();
  copy[index] = item;
  return copy;
}

export function decodeByComputerState(json: unknown): Decoded<ByComputerState> {
  return decodeState(ByComputerState, 'by-computer', json);
}
