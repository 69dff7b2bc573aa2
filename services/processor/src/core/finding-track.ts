import { z } from 'zod';
import { FindingKind, FindingState, Severity, TimelineEntry, buildEventId } from '@calwatch/model';
import { Candidate, type FindingDraft } from './messages';
import { severityRank } from './severity';
import { extendTimeline, forEachEntryHash, mixString, timelineHasEvent } from './timeline-index';
import { toIso } from './time';

/** A finding's deterministic id: kind + license server + anchor (HWID, computer or product). */
export function buildFindingId(kind: FindingKind, licenseServer: string, anchor: string): string {
  return `${kind}:${buildEventId('finding', kind, licenseServer, anchor)}`;
}

/** A piece of evidence for the timeline (event time in ms). */
export interface Evidence {
  at: number;
  eventId: string;
  note: string;
}

/**
 * What a stage derives for a finding whose condition holds now. The texts and the
 * history are built only when an update is actually sent.
 */
export interface DerivedFinding {
  severity: Severity;
  hwids: string[];
  computers: string[];
  licenseIds: number[];
  keyPackIds: number[];
  candidates: Candidate[];
  /**
   * `candidates` is each `base` with `changes` CALs added or removed, nothing else changed:
   * when a `base` is the list the track holds, the change count is known without comparing
   * the lists (a cloned image's list of hundreds changes by one or two per reissue).
   */
  candidatesChangedFrom?: readonly { base: readonly Candidate[]; changes: number }[];
  firstSeen: number;
  lastSeen: number;
  /**
   * The cause stopped (no reissue, no new HWID for the quiet period) but CALs it leaked are
   * still valid: the finding stays open with its revoke plan until they are reclaimed.
   */
  causeStopped?: boolean;
  /**
   * The texts, built only when an update goes out. Rules write this and `history` as methods,
   * not arrow properties: the TypeScript loader keeps every named arrow's name with a
   * defineProperty call each time the object is made, on every derivation (about 2 % of the
   * core on cloned images); a method has its name already.
   */
  describe(): { summary: string; remediation: string };
  /** Evidence that led to the finding; seeds the timeline when an episode opens. */
  history(): Evidence[];
}

/** What the owning stage remembers about one finding between messages. */
export const FindingTrack = z.object({
  id: z.string(),
  kind: FindingKind,
  state: FindingState,
  firstSeen: z.number(),
  lastSeen: z.number(),
  severity: Severity,
  hwids: z.array(z.string()),
  computers: z.array(z.string()),
  licenseIds: z.array(z.number().int()),
  keyPackIds: z.array(z.number().int()),
  candidates: z.array(Candidate),
  timeline: z.array(TimelineEntry),
  /** lastSeen of the last update sent, for the periodic refresh. */
  sentLastSeen: z.number(),
  /** Fingerprint of the last update sent (texts and timeline included), for flushes. */
  sentHash: z.string(),
  /** Reclaimable CALs in the last update sent (absent in state from before: the current count). */
  sentCandidates: z.number().int().nonnegative().optional(),
  /**
   * Members of the finding's lists (CALs, HWIDs, names) that joined, left or changed since
   * the last update sent (absent: none). The name is kept from when it counted CALs only.
   */
  pendingCandidateChanges: z.number().int().positive().optional(),
  /** Event time of the first of those changes: they go out a refresh period later at the latest. */
  pendingSince: z.number().optional(),
  /** The cause stopped; the leaked CALs are still valid (absent: the cause holds). */
  causeStopped: z.literal(true).optional(),
  /**
   * Event time since which the derived severity has stayed below `severity` (absent: it
   * has not). Severity falls only once this is a hold time old (see heldSeverity).
   */
  lowerSince: z.number().optional(),
});
export type FindingTrack = z.infer<typeof FindingTrack>;

export function hasOpenTrack(tracks: Readonly<Record<string, { state: string }>>): boolean {
  for (const id in tracks) if (tracks[id]!.state === 'open') return true;
  return false;
}

export interface TrackStep {
  track: FindingTrack | undefined;
  draft: FindingDraft | null;
}

export interface TrackInput {
  track: FindingTrack | undefined;
  id: string;
  kind: FindingKind;
  licenseServer: string;
  derived: DerivedFinding | null;
  evidence: readonly Evidence[];
  at: number;
  timelineMax: number;
  /** Evidence newer than the last update by this much is sent even if the verdict held. */
  refreshMs: number;
  /** A lower severity is published only once it has held this long (event time). */
  severityHoldMs: number;
  /**
   * Reclaimable CALs that only grew (none left, none changed) are a verdict change once
   * they grew by this fraction since the last update; 0 (the default): any change is.
   */
  candidateGrowth?: number;
  /** Send whatever changed since the last update (end of a replay). */
  flush?: boolean;
  /** Summary and timeline note when the finding resolves (a method, as `describe`). */
  resolution(): Resolution;
}

/** The texts of a resolution and its timeline note. */
export interface Resolution {
  summary: string;
  remediation: string;
  note: string;
}

/**
 * Moves one finding's track: opens an episode when the condition starts to hold, updates
 * it while it holds, resolves it when it stops. An update is sent when the verdict
 * changes (severity, HWIDs, computers, what is reclaimable), when evidence has moved on
 * by the refresh period, or on a flush when anything at all changed; evidence in between
 * (new licenses, renewals, the timeline) accumulates and goes out with the next update.
 */
export function advanceTrack(input: TrackInput): TrackStep {
  const { track, derived, at, timelineMax } = input;
  const isOpen = track !== undefined && track.state === 'open';
  if (derived === null) {
    if (!isOpen) return { track, draft: null };
    const { summary, remediation, note } = input.resolution();
    const timeline = extendTimeline(track.timeline, [entry({ at, eventId: `time:${toIso(at)}`, note })], timelineMax);
    const draft: FindingDraft = {
      type: 'finding-draft',
      at,
      id: track.id,
      kind: track.kind,
      state: 'resolved',
      severity: track.severity,
      licenseServer: input.licenseServer,
      hwids: track.hwids,
      computers: track.computers,
      licenseIds: track.licenseIds,
      keyPackIds: track.keyPackIds,
      candidates: [],
      firstSeen: track.firstSeen,
      lastSeen: track.lastSeen,
      timeline,
      summary,
      remediation,
    };
    return { track: { ...track, state: 'resolved', candidates: [], timeline, sentLastSeen: track.lastSeen, sentHash: '' }, draft };
  }

  const opening = !isOpen;
  let timeline: z.infer<typeof TimelineEntry>[];
  if (opening) {
    timeline = bounded(derived.history().map(entry), timelineMax);
  } else {
    const fresh = input.evidence.filter((e) => !timelineHasEvent(track.timeline, e.eventId));
    timeline = fresh.length === 0 ? track.timeline : extendTimeline(track.timeline, fresh.map(entry), timelineMax);
  }
  const firstSeen = opening ? derived.firstSeen : Math.min(track.firstSeen, derived.firstSeen);
  const lastSeen = opening ? derived.lastSeen : Math.max(track.lastSeen, derived.lastSeen);
  const held = heldSeverity(opening ? undefined : track, derived.severity, at, input.severityHoldMs);
  const causeStopped = derived.causeStopped === true;
  const lists = opening ? { moved: true, pending: 0, since: at } : listChanges(track, derived, input.candidateGrowth ?? 0, at, input.refreshMs);
  const next: FindingTrack = {
    id: input.id,
    kind: input.kind,
    state: 'open',
    firstSeen,
    lastSeen,
    severity: held.severity,
    hwids: derived.hwids,
    computers: derived.computers,
    licenseIds: derived.licenseIds,
    keyPackIds: derived.keyPackIds,
    candidates: derived.candidates,
    timeline,
    sentLastSeen: opening ? lastSeen : track.sentLastSeen,
    sentHash: opening ? '' : track.sentHash,
    ...(causeStopped ? { causeStopped: true as const } : {}),
    ...(held.lowerSince === undefined ? {} : { lowerSince: held.lowerSince }),
    ...(opening ? {} : { sentCandidates: track.sentCandidates ?? track.candidates.length }),
    ...(lists.pending > 0 ? { pendingCandidateChanges: lists.pending, pendingSince: lists.since } : {}),
  };
  const verdictChanged =
    opening ||
    track.severity !== next.severity ||
    (track.causeStopped === true) !== causeStopped ||
    firstSeen !== track.firstSeen ||
    lists.moved;
  const refreshDue = lastSeen - next.sentLastSeen >= input.refreshMs;
  if (!verdictChanged && !refreshDue && input.flush !== true) return { track: next, draft: null };

  const { summary, remediation } = derived.describe();
  const draft: FindingDraft = {
    type: 'finding-draft',
    at,
    id: input.id,
    kind: input.kind,
    state: 'open',
    severity: next.severity,
    licenseServer: input.licenseServer,
    hwids: derived.hwids,
    computers: derived.computers,
    licenseIds: derived.licenseIds,
    keyPackIds: derived.keyPackIds,
    candidates: derived.candidates,
    firstSeen,
    lastSeen,
    timeline,
    summary,
    remediation,
    ...(causeStopped ? { causeStopped: true as const } : {}),
  };
  const hash = fingerprint(draft);
  if (!verdictChanged && !refreshDue && hash === next.sentHash && lists.pending === 0) return { track: next, draft: null };
  const { pendingCandidateChanges: _sent, pendingSince: _since, ...rest } = next;
  return { track: { ...rest, sentLastSeen: lastSeen, sentHash: hash, sentCandidates: next.candidates.length }, draft };
}

/**
 * A finding's lists (reclaimable CALs, HWIDs, names) are a verdict, but a cloned image
 * reissued thousands of times would re-send (and re-plan) its whole list of CALs on every
 * reissue, quadratic in the episode, and a churning VDI name would send an update per boot
 * for its list of HWIDs. With a `growth` above 0 the lists go out once the members that
 * joined, left or changed since the last update reach that fraction of the finding's size
 * (a list of HWIDs or names too short for the fraction to reach one goes out on any change),
 * or once the first of them is a refresh period old (a timer sees to it: heldCandidatesDueAt);
 * a flush sends the exact lists, and the server's plan leaves out a CAL it saw revoked at once.
 */
function listChanges(
  track: FindingTrack,
  derived: Pick<DerivedFinding, 'candidates' | 'candidatesChangedFrom' | 'hwids' | 'computers'>,
  growth: number,
  at: number,
  holdMs: number,
): { moved: boolean; pending: number; since: number } {
  const previous = track.candidates;
  const next = derived.candidates;
  const known = derived.candidatesChangedFrom?.find((edit) => edit.base === previous)?.changes ?? null;
  const hwids = memberChanges(track.hwids, derived.hwids);
  const computers = memberChanges(track.computers, derived.computers);
  if (growth <= 0) return { moved: hwids + computers > 0 || (known === null ? !sameCandidates(previous, next) : known > 0), pending: 0, since: at };
  const pending = (track.pendingCandidateChanges ?? 0) + (known ?? countChanges(previous, next)) + hwids + computers;
  const since = track.pendingSince ?? at;
  if (pending === 0) return { moved: false, pending, since };
  const size = Math.max(track.sentCandidates ?? previous.length, track.hwids.length, track.computers.length);
  const moved =
    shortListChanged(hwids, track.hwids, derived.hwids, growth) ||
    shortListChanged(computers, track.computers, derived.computers, growth) ||
    pending >= Math.max(1, Math.ceil(size * growth)) ||
    at - since >= holdMs;
  return { moved, pending, since };
}

/** A list so short that the fraction of it is under one member goes out on any change. */
function shortListChanged(changes: number, before: readonly string[], after: readonly string[], growth: number): boolean {
  return changes > 0 && Math.max(before.length, after.length) * growth <= 1;
}

/** HWIDs or names that joined or left between two lists. */
function memberChanges(a: readonly string[], b: readonly string[]): number {
  if (sameList(a, b)) return 0;
  if (isAscending(a) && isAscending(b)) {
    // The rules keep these lists sorted (a churning name's 64 HWIDs): one merge walk.
    let i = 0;
    let j = 0;
    let kept = 0;
    while (i < a.length && j < b.length) {
      if (a[i] === b[j]) {
        kept++;
        i++;
        j++;
      } else if (a[i]! < b[j]!) i++;
      else j++;
    }
    return a.length - kept + (b.length - kept);
  }
  const before = new Set(a);
  let kept = 0;
  for (const x of b) if (before.has(x)) kept++;
  return a.length - kept + (b.length - kept);
}

/** When an open track's held-back candidates are due out (null: none are held). */
export function heldCandidatesDueAt(track: Pick<FindingTrack, 'state' | 'pendingSince'>, refreshMs: number): number | null {
  return track.state === 'open' && track.pendingSince !== undefined ? track.pendingSince + refreshMs : null;
}

/** CALs that joined, left or changed between two lists (both in chain order). */
export function countChanges(a: readonly Candidate[], b: readonly Candidate[]): number {
  // The rules hand on the same candidate objects while a license does not change, and a step
  // adds or removes a few CALs of hundreds (a churning name's list holds a thousand). So the
  // lists are aligned by identity alone, one walk along both that reads no candidate (a list
  // of pointers is cheap to scan; the candidates, spread over the heap, are not); only what
  // is left on either side is compared by id and content.
  let j = 0;
  let leftA: Candidate[] | undefined;
  let leftB: Candidate[] | undefined;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (j < b.length && b[j] === x) {
      j++;
      continue;
    }
    let k = j + 1;
    while (k < b.length && b[k] !== x) k++;
    if (k >= b.length) {
      (leftA ??= []).push(x);
      // Lists that differ a lot: compared by id at once.
      if (leftA.length > MAX_UNALIGNED) return countChangesById(a, b);
      continue;
    }
    for (; j < k; j++) (leftB ??= []).push(b[j]!);
    j = k + 1;
  }
  for (; j < b.length; j++) (leftB ??= []).push(b[j]!);
  if (leftA === undefined || leftB === undefined) return (leftA?.length ?? 0) + (leftB?.length ?? 0);
  return countChangesById(leftA, leftB);
}

/** More CALs of the old list than this not found ahead in the new: the lists are compared by id. */
const MAX_UNALIGNED = 16;

function countChangesById(a: readonly Candidate[], b: readonly Candidate[]): number {
  const before = new Map<number, Candidate>();
  for (const c of a) before.set(c.licenseId, c);
  let kept = 0;
  for (const c of b) {
    const x = before.get(c.licenseId);
    if (x !== undefined && x.keyPackId === c.keyPackId && x.expiresAt === c.expiresAt) kept++;
  }
  return a.length - kept + (b.length - kept);
}

/**
 * Severity hysteresis: a higher severity is taken at once; a lower one only once the derived
 * severity has stayed below the published one for `holdMs` of event time, so a finding
 * hovering at a threshold does not flap (high, low, high...) and page on every swing. When
 * the hold is over, the severity falls to what is derived now.
 */
export function heldSeverity(
  track: Pick<FindingTrack, 'severity' | 'lowerSince'> | undefined,
  derived: Severity,
  at: number,
  holdMs: number,
): { severity: Severity; lowerSince: number | undefined } {
  if (track === undefined || severityRank(derived) >= severityRank(track.severity)) return { severity: derived, lowerSince: undefined };
  const since = track.lowerSince ?? at;
  if (at - since >= holdMs) return { severity: derived, lowerSince: undefined };
  return { severity: track.severity, lowerSince: since };
}

/** When an open track's held severity may fall (null: nothing is held). */
export function holdEndsAt(track: Pick<FindingTrack, 'state' | 'lowerSince'>, holdMs: number): number | null {
  return track.state === 'open' && track.lowerSince !== undefined ? track.lowerSince + holdMs : null;
}

function isAscending(list: readonly string[]): boolean {
  for (let i = 1; i < list.length; i++) if (!(list[i - 1]! < list[i]!)) return false;
  return true;
}

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function sameCandidates(a: readonly Candidate[], b: readonly Candidate[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y && (x.licenseId !== y.licenseId || x.keyPackId !== y.keyPackId || x.expiresAt !== y.expiresAt)) return false;
  }
  return true;
}

function entry(evidence: Evidence): z.infer<typeof TimelineEntry> {
  return { at: toIso(evidence.at), eventId: evidence.eventId, note: evidence.note };
}

function bounded<T>(list: T[], max: number): T[] {
  return list.length > max ? list.slice(list.length - max) : list;
}

/**
 * Only tells "anything changed since the last update" on a flush, so a fast 64-bit mix is
 * enough (SHA-256 over the draft's JSON cost more than the rest of an update on findings
 * with hundreds of CALs). The verdict fields (severity, firstSeen) are left out: an update
 * is sent whenever they change, so on a flush they always equal the last update's; changes
 * to the lists (CALs, HWIDs, names) held back by listChanges are counted apart.
 */
function fingerprint(draft: FindingDraft): string {
  const h: [number, number] = [0x811c9dc5, 0x9e3779b9];
  mixString(h, draft.id);
  mixString(h, draft.state);
  mixString(h, draft.licenseServer);
  mixNumbers(h, draft.licenseIds);
  mixNumbers(h, draft.keyPackIds);
  mixNumber(h, draft.lastSeen);
  // Two hashes per entry, made when the entry joined a timeline (timeline-index.ts).
  mixNumber(h, draft.timeline.length);
  forEachEntryHash(draft.timeline, (e) => mixNumber(h, e));
  mixString(h, draft.summary);
  mixString(h, draft.remediation);
  return (h[0] >>> 0).toString(36) + '.' + (h[1] >>> 0).toString(36);
}

function mixNumbers(h: [number, number], list: readonly number[]): void {
  mixNumber(h, list.length);
  // Indexed: a for-of here allocated an iterator result per number (a finding lists hundreds).
  for (let i = 0; i < list.length; i++) mixNumber(h, list[i]!);
}

function mixNumber(h: [number, number], n: number): void {
  // Epoch milliseconds exceed 32 bits: mix the high and low parts.
  const lo = n | 0;
  const hi = lo === n ? 0 : Math.floor(n / 4294967296) | 0;
  h[0] = Math.imul(h[0] ^ lo, 0x01000193) ^ hi;
  h[1] = Math.imul(h[1] ^ hi, 0x5bd1e995) ^ lo;
  h[1] = Math.imul(h[1] ^ (h[1] >>> 15), 0x27d4eb2d);
  if (lo !== n && !Number.isInteger(n)) mixString(h, String(n));
}

