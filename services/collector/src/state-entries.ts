import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { IsoInstant, LicenseFact, parseRecordJson } from '@calwatch/model';
import { CollectorServerState, emptyServerState } from './server-state';

/**
 * A license server's state in the compacted snapshot-state topic as small entries, the way
 * a Kafka Streams key-value store keeps it: one head per server (the snapshot times) and one
 * entry per issued license (its LicenseFact). A snapshot writes only the license entries
 * whose fact changed, then the head, so no record grows with the number of licenses.
 *
 * Keys are JSON arrays: `["LS01"]` for the head, `["LS01","1234"]` for license 1234. The
 * server name comes from the uploaded rows (PSComputerName, __SERVER, ...) and nothing
 * keeps a control character such as U+0000 out of it, so a separator character could make
 * a head key of one server equal a license key of another; a JSON array cannot. A key that
 * is not such an array is the whole-state record of an older version (key = server name).
 */

/** Version of the topic's format, in the `calwatch-schema-version` header of every record. */
export const STATE_FORMAT_VERSION = 2;

/** The head: everything of a server's state except its licenses. */
export const StateHead = z.object({
  schemaVersion: z.literal(STATE_FORMAT_VERSION),
  licenseServer: z.string().min(1),
  /** Time of the last issued-license snapshot applied; null before the first. */
  issuedTakenAt: IsoInstant.nullable(),
  keyPacksTakenAt: IsoInstant.nullable(),
});
export type StateHead = z.infer<typeof StateHead>;

export type StateKey =
  | { kind: 'head'; licenseServer: string }
  | { kind: 'license'; licenseServer: string; licenseId: string }
  | { kind: 'legacy'; licenseServer: string };

const LICENSE_ID = /^\d+$/;

export function buildHeadKey(licenseServer: string): string {
  return JSON.stringify([licenseServer]);
}

export function buildLicenseKey(licenseServer: string, licenseId: string): string {
  return JSON.stringify([licenseServer, licenseId]);
}

export function decodeStateKey(key: string): StateKey {
  if (key.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(key);
    } catch {
      parsed = undefined;
    }
    if (Array.isArray(parsed) && parsed.every((part) => typeof part === 'string')) {
      const [licenseServer, licenseId] = parsed as string[];
      if (parsed.length === 1 && licenseServer !== '') return { kind: 'head', licenseServer: licenseServer! };
      if (parsed.length === 2 && licenseServer !== '' && LICENSE_ID.test(licenseId!)) return { kind: 'license', licenseServer: licenseServer!, licenseId: licenseId! };
    }
  }
  return { kind: 'legacy', licenseServer: key };
}

/**
 * What the topic holds for one server besides its head: the license entries as last
 * written or restored (null: a failed write may have changed it, so it is written again),
 * and whether an older version's whole-state record is still there.
 */
export interface StoredEntries {
  licenses: Readonly<Record<string, LicenseFact | null>>;
  legacyRecord: boolean;
}

/** A state that was written completely: its entries are its licenses. */
export function storedEntriesOf(state: CollectorServerState): StoredEntries {
  return { licenses: state.issued?.licenses ?? {}, legacyRecord: false };
}

export interface LicenseEntryWrite {
  licenseId: string;
  /** null deletes the entry (the license left the state). */
  fact: LicenseFact | null;
}

/** The records that bring the topic from `stored` to a new state. */
export interface StateWrite {
  licenseServer: string;
  /** Entries whose fact differs from the stored one, in licenseId order. */
  licenses: LicenseEntryWrite[];
  /** Written after every license entry: the head is what makes the new state count. */
  head: StateHead;
  /** Delete the older version's whole-state record, after the head. */
  dropLegacy: boolean;
}

export function buildHead(state: CollectorServerState): StateHead {
  return {
    schemaVersion: STATE_FORMAT_VERSION,
    licenseServer: state.licenseServer,
    issuedTakenAt: state.issued?.takenAt ?? null,
    keyPacksTakenAt: state.keyPacksTakenAt,
  };
}

/**
 * The entries to write for `next`, given what the topic holds. The differ's events do not
 * tell every change (a new computer name or user with the same status emits nothing but must
 * be stored), so facts are compared; a fact carried over unchanged is the same object and
 * costs one comparison of references.
 */
export function buildStateWrite(stored: StoredEntries | undefined, next: CollectorServerState): StateWrite {
  const before = stored?.licenses ?? {};
  const after: Readonly<Record<string, LicenseFact>> = next.issued?.licenses ?? {};
  const licenses: LicenseEntryWrite[] = [];
  if (before !== after) {
    for (const [licenseId, fact] of Object.entries(after)) {
      const was = before[licenseId];
      if (was === undefined || was === null || (was !== fact && !isDeepStrictEqual(was, fact))) licenses.push({ licenseId, fact });
    }
    for (const licenseId of Object.keys(before)) if (after[licenseId] === undefined) licenses.push({ licenseId, fact: null });
    licenses.sort((a, b) => Number(a.licenseId) - Number(b.licenseId));
  }
  return { licenseServer: next.licenseServer, licenses, head: buildHead(next), dropLegacy: stored?.legacyRecord ?? false };
}

/**
 * After a write that failed part-way, each of its entries may or may not be in the topic:
 * they are marked unknown so the next write puts them (or their tombstones) again.
 */
export function storedAfterFailedWrite(stored: StoredEntries | undefined, write: StateWrite): StoredEntries {
  if (write.licenses.length === 0) return stored ?? { licenses: {}, legacyRecord: false };
  const licenses: Record<string, LicenseFact | null> = { ...stored?.licenses };
  for (const entry of write.licenses) licenses[entry.licenseId] = null;
  return { licenses, legacyRecord: stored?.legacyRecord ?? false };
}

export interface RestoredServer {
  state: CollectorServerState;
  stored: StoredEntries;
}

export type StateRecordProblem = { licenseServer: string; message: string; issues?: z.core.$ZodIssue[] };

export interface StateAssembler {
  /** One record of the topic, in log order per key; returns why it was skipped, if it was. */
  add(key: string, value: Buffer | null): StateRecordProblem | undefined;
  /** Every server's state put back together (the records may come from any partition order). */
  finish(): RestoredServer[];
  /** Servers whose state came from an older version's whole-state record. */
  readonly legacyServers: number;
}

interface Pending {
  head: StateHead | undefined;
  legacy: CollectorServerState | undefined;
  licenses: Map<string, LicenseFact>;
}

/**
 * Puts server states back together from the topic: last value per key wins, a tombstone
 * deletes. How the pieces combine:
 * - head present: its times, and the license entries as the issued licenses. After a crash
 *   between the entries and the head, some entries already hold the next snapshot's facts
 *   while the head still has the previous time. The next snapshot (or the re-sent one) is
 *   then newer than the head and is diffed against that mix: licenses already updated show
 *   no transition, and their events went out before the state write began (events are
 *   acknowledged first); the others emit what they would have, with the same ids (ids depend
 *   only on transitions). Its write then brings every entry and the head up to date, so the
 *   state converges on the one an uninterrupted run has.
 * - no head, a whole-state record of an older version: that record converted. Reading it
 *   keeps an upgrade from diffing every server's next snapshot as a first one, which would
 *   emit `license.issued` again for every license of the fleet; its next write stores every
 *   license as an entry, then deletes the old record.
 * - no head, license entries only (a first snapshot cut short, or a head deleted by hand):
 *   the next snapshot is diffed as a first one; the entries are known to be there, so its
 *   write deletes those it no longer has.
 */
export function createStateAssembler(): StateAssembler {
  const servers = new Map<string, Pending>();
  let legacyServers = 0;
  const pending = (licenseServer: string): Pending => {
    let entry = servers.get(licenseServer);
    if (entry === undefined) servers.set(licenseServer, (entry = { head: undefined, legacy: undefined, licenses: new Map() }));
    return entry;
  };

  return {
    add(key, value) {
      const decoded = decodeStateKey(key);
      const { licenseServer } = decoded;
      if (value === null) {
        const entry = servers.get(licenseServer);
        if (entry === undefined) return undefined;
        if (decoded.kind === 'head') entry.head = undefined;
        else if (decoded.kind === 'legacy') entry.legacy = undefined;
        else entry.licenses.delete(decoded.licenseId);
        return undefined;
      }
      const parsedJson = parseRecordJson(value);
      if (!parsedJson.ok) return { licenseServer, message: parsedJson.reason };
      const json = parsedJson.value;
      switch (decoded.kind) {
        case 'head': {
          const parsed = StateHead.safeParse(json);
          if (!parsed.success) return { licenseServer, message: 'head does not decode', issues: parsed.error.issues };
          if (parsed.data.licenseServer !== licenseServer) return { licenseServer, message: `head names another server (${parsed.data.licenseServer})` };
          pending(licenseServer).head = parsed.data;
          return undefined;
        }
        case 'license': {
          const parsed = LicenseFact.safeParse(json);
          if (!parsed.success) return { licenseServer, message: `license entry ${decoded.licenseId} does not decode`, issues: parsed.error.issues };
          if (String(parsed.data.licenseId) !== decoded.licenseId) return { licenseServer, message: `license entry ${decoded.licenseId} holds license ${parsed.data.licenseId}` };
          pending(licenseServer).licenses.set(decoded.licenseId, parsed.data);
          return undefined;
        }
        case 'legacy': {
          const parsed = CollectorServerState.safeParse(json);
          if (!parsed.success) return { licenseServer, message: 'not a state entry key, and not a whole-state record of an older version', issues: parsed.error.issues };
          if (parsed.data.licenseServer !== licenseServer) return { licenseServer, message: `whole-state record names another server (${parsed.data.licenseServer})` };
          pending(licenseServer).legacy = parsed.data;
          return undefined;
        }
      }
    },

    finish() {
      const restored: RestoredServer[] = [];
      legacyServers = 0;
      for (const [licenseServer, entry] of servers) {
        const licenses: Record<string, LicenseFact> = {};
        for (const id of [...entry.licenses.keys()].sort((a, b) => Number(a) - Number(b))) licenses[id] = entry.licenses.get(id)!;
        const legacyRecord = entry.legacy !== undefined;
        if (entry.head !== undefined) {
          const { issuedTakenAt, keyPacksTakenAt } = entry.head;
          const state: CollectorServerState = {
            ...emptyServerState(licenseServer),
            issued: issuedTakenAt === null ? null : { licenseServer, takenAt: issuedTakenAt, licenses },
            keyPacksTakenAt,
          };
          restored.push({ state, stored: { licenses, legacyRecord } });
        } else if (entry.legacy !== undefined) {
          legacyServers += 1;
          restored.push({ state: entry.legacy, stored: { licenses, legacyRecord } });
        } else if (entry.licenses.size > 0) {
          restored.push({ state: emptyServerState(licenseServer), stored: { licenses, legacyRecord } });
        }
      }
      servers.clear();
      return restored;
    },

    get legacyServers() {
      return legacyServers;
    },
  };
}
