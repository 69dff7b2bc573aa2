import { z } from 'zod';
import type { LicenseLifecycleEvent } from '@calwatch/model';
import { findRecord, pruneChain, withRecord } from './chain';
import { createChainSummaries } from './chain-summary';
import type { CoreConfig } from './config';
import { CORE_ERRORS } from './errors';
import { FindingTrack, advanceTrack, buildFindingId, hasOpenTrack, heldCandidatesDueAt, holdEndsAt, type Evidence } from './finding-track';
import { LicenseRecord, applyLicenseEvent } from './license-record';
import { type Decoded, decodeState } from './state-codec';
import { type StateForm, isEmpty } from './state-store';
import {
  type ByHwidMessage,
  type HwidContext,
  type LicenseFactMessage,
  type NameObservation,
  type StageOptions,
  type StageOutput,
  type StageResult,
  computerKey,
} from './messages';
import { type ClonedImageView, deriveClonedImage, resolveClonedImage } from './rules/cloned-image';
import { daysToMs, toDay, toMs } from './time';

/**
 * Stage `by-hwid`, keyed by normalised HWID (the input topic's key). Keeps the HWID's
 * license chain and detects cloned images: one HWID presented by several names, each
 * name switch making the license server issue another CAL (the A/B/A ping-pong).
 */
export const ByHwidState = z.object({
  v: z.literal(1),
  hwid: z.string(),
  clock: z.number(),
  /** Sorted by issue time then licenseId. */
  licenses: z.array(LicenseRecord),
  /**
   * Computer names as seen, by normalised name (for readable findings), only where the
   * spelling differs from the normalised name: a name missing here is spelled as normalised.
   * Names almost always are, and a record with a key of its own costs ~180 bytes per HWID.
   */
  computerRaw: z.record(z.string(), z.string()),
  /** Cloned-image finding per license server. */
  tracks: z.record(z.string(), FindingTrack),
});
export type ByHwidState = z.infer<typeof ByHwidState>;

export interface ByHwidStage {
  process(key: string, message: ByHwidMessage, state: ByHwidState | undefined): StageResult<ByHwidState | undefined>;
  /** The event time at which passing time may change this key's findings (null: never). */
  dueAt(state: ByHwidState): number | null;
}

export function createByHwidStage(config: CoreConfig, options: StageOptions = {}): ByHwidStage {
  const enriched = options.enriched ?? true;
  const quietMs = daysToMs(config.clone.quietDays);
  const refreshMs = daysToMs(config.emit.refreshDays);
  const severityHoldMs = daysToMs(config.severity.holdDays);

  /**
   * Per chain: its lists, reissues and valid licenses, carried from one chain to the next on
   * a reissue (chain-summary.ts), for the rule and for the enrichment context of each event.
   */
  const summaries = createChainSummaries();

  /** The HWID's licenses on one server; the chain itself when it holds only that server (the usual case). */
  function serverChain(state: ByHwidState, server: string): readonly LicenseRecord[] {
    const licenses = state.licenses;
    return licenses.length === 0 || soleServerOf(licenses) === server ? licenses : licenses.filter((r) => r.server === server);
  }

  /**
   * The server all of a chain's licenses come from (null: several). A cloned image's chain is
   * hundreds long and read several times per reissue: a long chain's answer is kept (chains are
   * replaced, never changed), and handed on when it grows by a license of that server or is pruned.
   */
  const soleServers = new WeakMap<readonly LicenseRecord[], string | null>();
  const LONG_CHAIN = 16;

  function soleServerOf(chain: readonly LicenseRecord[]): string | null {
    let sole = chain.length < LONG_CHAIN ? undefined : soleServers.get(chain);
    if (sole !== undefined) return sole;
    sole = chain.length === 0 ? null : chain[0]!.server;
    for (let i = 1; i < chain.length && sole !== null; i++) if (chain[i]!.server !== sole) sole = null;
    if (chain.length >= LONG_CHAIN) soleServers.set(chain, sole);
    return sole;
  }

  /** `after` holds what `before` did plus (or minus) licenses of `server` only. */
  function handOnSoleServer(before: readonly LicenseRecord[], after: readonly LicenseRecord[], server: string | null): void {
    if (after.length < LONG_CHAIN || server === null) return;
    if (before.length === 0 || soleServerOf(before) === server) soleServers.set(after, server);
  }

  /** `evidence` is built only when the HWID has a finding to feed (rarely). */
  function step(state: ByHwidState, server: string, clock: number, evidence: () => Evidence[], outputs: StageOutput[], flush = false): void {
    const track = state.tracks[server];
    const chain = serverChain(state, server);
    // A single license holds no reissue: the usual HWID skips the rule and its view.
    if (track === undefined && chain.length < 2) return;
    const view: ClonedImageView = { hwid: state.hwid, server, chain, open: track?.state === 'open', clock, summaries };
    const derived = deriveClonedImage(view, config);
    if (track === undefined && derived === null) return;
    const result = advanceTrack({
      track,
      id: track?.id ?? buildFindingId('cloned-image', server, state.hwid),
      kind: 'cloned-image',
      licenseServer: server,
      derived,
      evidence: evidence(),
      at: clock,
      timelineMax: config.state.timelineMax,
      refreshMs,
      severityHoldMs,
      candidateGrowth: config.emit.candidateGrowth,
      flush,
      resolution() {
        return resolveClonedImage(view, config);
      },
    });
    // Copy on write: the input state stays as it was.
    if (result.track !== undefined && result.track !== track) state.tracks = { ...state.tracks, [server]: result.track };
    if (result.draft !== null) outputs.push({ topic: 'by-server', key: server, message: result.draft });
  }

  function context(state: ByHwidState, server: string): HwidContext {
    const chain = serverChain(state, server);
    const track = state.tracks[server];
    const open = track?.state === 'open';
    return {
      // Shared, never changed: the lists are replaced when the chain is.
      licenseIds: chain.length === 1 ? [chain[0]!.licenseId] : summaries.summaryOf(chain).licenseIds,
      computers: chain.length === 1 ? [chain[0]!.computer] : summaries.summaryOf(chain).computers,
      findingIds: open ? [track.id] : [],
      classification: open ? 'cloned-image' : 'healthy',
    };
  }

  function evidenceOf(event: LicenseLifecycleEvent, record: LicenseRecord, previous: LicenseRecord | undefined, chain: readonly LicenseRecord[]): Evidence {
    const at = toMs(event.eventTime);
    const id = record.licenseId;
    const who = event.license.computer.norm;
    let note: string;
    switch (event.type) {
      case 'license.issued': {
        const index = chain.indexOf(record);
        const before = index > 0 ? chain[index - 1] : undefined;
        note = `CAL ${id} (${record.status}) issued to ${who}`;
        if (before !== undefined && before.computer !== record.computer) note += ` after ${before.computer} had CAL ${before.licenseId}`;
        break;
      }
      case 'license.renewed':
        note = `CAL ${id} of ${who} renewed until ${record.expiresAt === null ? 'unknown' : toDay(record.expiresAt)}`;
        break;
      case 'license.upgraded':
        note = `CAL ${id} of ${who} upgraded from ${event.previousStatus} to ${record.status}`;
        break;
      case 'license.revoked':
        note = `CAL ${id} of ${who} revoked`;
        break;
      case 'license.returned':
        note = `CAL ${id} of ${who} returned (${event.reason})`;
        break;
    }
    if (previous !== undefined && previous.computer !== record.computer) note += ` (was ${previous.computer})`;
    return { at, eventId: event.eventId, note };
  }

  return {
    process(key, message, current) {
      const outputs: StageOutput[] = [];
      if (message.type === 'tick') {
        if (current === undefined) return { state: undefined, outputs };
        // Stages return new state and leave their input untouched, so a throw changes nothing.
        const state: ByHwidState = { ...current, clock: Math.max(current.clock, message.at) };
        for (const server of Object.keys(state.tracks).sort()) step(state, server, state.clock, NO_EVIDENCE, outputs, message.flush === true);
        return finish(state, outputs);
      }

      const event = message;
      if (event.license.hwid.norm !== key) {
        throw CORE_ERRORS.create('PROCESSOR_KEY_MISMATCH', `event ${event.eventId} has HWID ${event.license.hwid.norm}, routed to key ${key}`, {
          context: { eventId: event.eventId, key },
        });
      }
      const at = toMs(event.eventTime);
      const state: ByHwidState =
        current === undefined
          ? { v: 1, hwid: key, clock: at, licenses: [], computerRaw: EMPTY_RAW, tracks: EMPTY_TRACKS }
          : { ...current, clock: Math.max(current.clock, at) };
      const server = event.licenseServer;
      const previous = findRecord(state.licenses, {
        server,
        licenseId: event.license.licenseId,
        issuedAt: toMs(event.license.issueDate),
      });
      const record = applyLicenseEvent(previous, event, config);
      const before = state.licenses;
      state.licenses = withRecord(before, record);
      handOnSoleServer(before, state.licenses, record.server);
      summaries.follow(before, state.licenses, previous, record, state.clock);
      state.computerRaw = withSpelling(state.computerRaw, record.computer, event.license.computer.raw);

      step(state, server, state.clock, () => [evidenceOf(event, record, previous, serverChain(state, server))], outputs);

      const hwidContext = enriched ? context(state, server) : NO_CONTEXT;
      if (previous !== undefined && previous.computer !== record.computer) {
        const moved: NameObservation = {
          type: 'name-observation',
          at,
          computerRaw: state.computerRaw[previous.computer] ?? previous.computer,
          license: { ...record, computer: previous.computer },
          moved: true,
          event: null,
          hwidContext,
        };
        outputs.push({ topic: 'by-computer', key: computerKey(server, previous.computer), message: moved });
      }
      const observation: NameObservation = {
        type: 'name-observation',
        at,
        computerRaw: event.license.computer.raw,
        license: record,
        moved: false,
        event,
        hwidContext,
      };
      outputs.push({ topic: 'by-computer', key: computerKey(server, record.computer), message: observation });
      const fact: LicenseFactMessage = {
        type: 'license-fact',
        at,
        eventId: event.eventId,
        eventType: event.type,
        licenseId: record.licenseId,
        keyPackId: record.keyPackId,
        status: record.status,
        previousStatus: event.type === 'license.upgraded' || event.type === 'license.revoked' ? event.previousStatus : null,
        issuedAt: record.issuedAt,
        expiresAt: record.expiresAt,
      };
      outputs.push({ topic: 'by-server', key: server, message: fact });
      return finish(state, outputs);
    },

    dueAt(state) {
      let due: number | null = null;
      for (const server in state.tracks) {
        if (state.tracks[server]!.state !== 'open') continue;
        const chain = serverChain(state, server);
        const last = summaries.summaryOf(chain).switchTimes.at(-1);
        const track = state.tracks[server]!;
        const candidates = [
          last === undefined ? null : last + quietMs,
          summaries.standingOf(chain, state.clock).nextExpiry,
          holdEndsAt(track, severityHoldMs),
          heldCandidatesDueAt(track, refreshMs),
        ];
        for (const c of candidates) if (c !== null && c > state.clock && (due === null || c < due)) due = c;
      }
      return due;
    },
  };

  function finish(state: ByHwidState, outputs: StageOutput[]): StageResult<ByHwidState | undefined> {
    const before = state.licenses.length;
    // A chain of a cloned image is hundreds of licenses: its summary says when the first could go.
    const unpruned = state.licenses;
    state.licenses = pruneChain(unpruned, state.clock, config, before >= 2 ? summaries.summaryOf(unpruned) : undefined);
    if (state.licenses !== unpruned) {
      summaries.followPrune(unpruned, state.licenses, state.clock);
      // Pruning only removes: a chain of one server stays one.
      handOnSoleServer(unpruned, state.licenses, unpruned.length >= LONG_CHAIN ? soleServerOf(unpruned) : null);
    }
    if (state.licenses.length !== before && state.computerRaw !== EMPTY_RAW) {
      const names = new Set(state.licenses.map((r) => r.computer));
      let kept: Record<string, string> = EMPTY_RAW;
      for (const name of Object.keys(state.computerRaw)) if (names.has(name)) kept = { ...kept, [name]: state.computerRaw[name]! };
      state.computerRaw = kept;
    }
    if (state.licenses.length === 0 && !hasOpenTrack(state.tracks)) return { state: undefined, outputs };
    return { state, outputs };
  }
}

const NO_EVIDENCE = (): Evidence[] => [];

/** The context by-computer gets when no enriched event is built (StageOptions.enriched). */
const NO_CONTEXT: HwidContext = Object.freeze({ licenseIds: [], computers: [], findingIds: [], classification: 'healthy' as const });

const EMPTY_RAW: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** computerRaw after `name` was seen spelled `raw` (a copy when it changes). */
function withSpelling(computerRaw: Record<string, string>, name: string, raw: string): Record<string, string> {
  // A lookup by a name never seen before is slow in V8: skip it in the usual case.
  if (raw === name && computerRaw === EMPTY_RAW) return computerRaw;
  const known = computerRaw[name];
  if (raw !== name) return known === raw ? computerRaw : { ...computerRaw, [name]: raw };
  if (known === undefined) return computerRaw;
  let rest: Record<string, string> = EMPTY_RAW;
  for (const key of Object.keys(computerRaw)) if (key !== name) rest = { ...rest, [key]: computerRaw[key]! };
  return rest;
}

/** Most HWIDs never get a finding: they all share one empty, frozen record until they do. */
const EMPTY_TRACKS: Record<string, FindingTrack> = Object.freeze({}) as Record<string, FindingTrack>;

/**
 * A quiet HWID (one license, no finding, its names spelled as normalised, its clock the
 * license's newest event) is kept as its license record alone (state-store.ts).
 */
export const BY_HWID_FORM: StateForm<ByHwidState, LicenseRecord> = {
  compact(state) {
    if (state.licenses.length !== 1) return state;
    const record = state.licenses[0]!;
    if (state.clock !== record.updatedAt || state.hwid !== record.hwid || !isEmpty(state.tracks) || !isEmpty(state.computerRaw)) return state;
    return record;
  },
  isCompact: (stored): stored is LicenseRecord => (stored as Partial<ByHwidState>).v === undefined,
  expand: (record) => ({ v: 1, hwid: record.hwid, clock: record.updatedAt, licenses: [record], computerRaw: EMPTY_RAW, tracks: EMPTY_TRACKS }),
};

/** Decodes a stored by-hwid state (changelog record) at the trust boundary. */
export function decodeByHwidState(json: unknown): Decoded<ByHwidState> {
  return decodeState(ByHwidState, 'by-hwid', json);
}
