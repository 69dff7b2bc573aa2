import { z } from 'zod';
import {
  EventSource,
  IsoInstant,
  LicenseFact,
  buildEventId,
  type CanonicalEvent,
  type LicenseStatus,
} from '@calwatch/model';
import { INGEST_ERRORS } from './errors';

/** One full `Win32_TSIssuedLicense` table of one license server at one instant. */
export interface Snapshot {
  /** Normalised license server name. */
  licenseServer: string;
  takenAt: string;
  licenses: LicenseFact[];
  source: EventSource;
}

/**
 * What the differ remembers between snapshots of one license server (kept as JSON in a
 * compacted topic keyed by license server): the last snapshot time and the last-seen
 * license per licenseId.
 */
export const SnapshotState = z.object({
  licenseServer: z.string().min(1),
  takenAt: IsoInstant,
  licenses: z.record(z.string().regex(/^\d+$/), LicenseFact),
});
export type SnapshotState = z.infer<typeof SnapshotState>;

export interface SnapshotDiff {
  events: CanonicalEvent[];
  state: SnapshotState;
  /** The snapshot was not newer than the state: nothing emitted, state unchanged. */
  stale: boolean;
}

const PRE_PERMANENT: ReadonlySet<LicenseStatus> = new Set(['temporary', 'pending', 'unknown']);
const PERMANENT: ReadonlySet<LicenseStatus> = new Set(['active', 'upgrade']);

/**
 * Turns the next snapshot of one license server into lifecycle events. The first
 * snapshot emits `license.issued` for every row (its status is part of the fact); later
 * ones emit what changed. At most one transition per license per snapshot (plus
 * returned + issued when a licenseId is reused for another device), ordered by licenseId.
 * Event ids depend only on the transition, so a replay after a restart yields the same ids.
 */
export function diffSnapshot(previous: SnapshotState | undefined, next: Snapshot): SnapshotDiff {
  if (previous !== undefined && previous.licenseServer !== next.licenseServer) {
    throw INGEST_ERRORS.create(
      'INGEST_SNAPSHOT_SERVER_MISMATCH',
      `state of ${previous.licenseServer} cannot diff a snapshot of ${next.licenseServer}`,
      { context: { stateServer: previous.licenseServer, snapshotServer: next.licenseServer } },
    );
  }
  const takenAtMs = Date.parse(next.takenAt);
  if (previous !== undefined && takenAtMs <= Date.parse(previous.takenAt)) {
    return { events: [], state: previous, stale: true };
  }

  const current = new Map<number, LicenseFact>();
  for (const license of next.licenses) current.set(license.licenseId, license);
  const before = new Map<number, LicenseFact>();
  for (const [id, license] of Object.entries(previous?.licenses ?? {})) before.set(Number(id), license);

  const ids = [...new Set([...current.keys(), ...before.keys()])].sort((a, b) => a - b);
  const emit = createEmitter(next);
  const events: CanonicalEvent[] = [];
  for (const id of ids) {
    const was = before.get(id);
    const now = current.get(id);
    if (now === undefined) {
      if (was !== undefined) events.push(emit.returned(was));
    } else if (was === undefined) {
      events.push(emit.issued(now));
    } else if (was.hwid.norm !== now.hwid.norm || was.issueDate !== now.issueDate) {
      events.push(emit.returned(was), emit.issued(now));
    } else {
      const transition = emit.transition(was, now);
      if (transition !== undefined) events.push(transition);
    }
  }

  const licenses: Record<string, LicenseFact> = {};
  for (const id of [...current.keys()].sort((a, b) => a - b)) licenses[String(id)] = current.get(id)!;
  return { events, state: { licenseServer: next.licenseServer, takenAt: next.takenAt, licenses }, stale: false };
}

function createEmitter(next: Snapshot) {
  const server = next.licenseServer;
  const takenAt = next.takenAt;
  const takenAtMs = Date.parse(takenAt);
  const envelope = (eventId: string, eventTime: string) => ({
    schemaVersion: 1 as const,
    eventId,
    eventTime,
    observedTime: takenAt,
    source: next.source,
    licenseServer: server,
  });
  // The parts that identify one license instance: a reused licenseId is another instance.
  const instance = (l: LicenseFact) => [server, l.licenseId, l.issueDate, l.hwid.norm] as const;

  return {
    issued(license: LicenseFact): CanonicalEvent {
      return {
        ...envelope(buildEventId('license.issued', ...instance(license)), license.issueDate),
        type: 'license.issued',
        license,
      };
    },

    returned(license: LicenseFact): CanonicalEvent {
      const expiryMs = license.expirationDate === null ? Number.NaN : Date.parse(license.expirationDate);
      const expired = expiryMs <= takenAtMs;
      const reason = expired ? 'expired' : license.status === 'revoked' ? 'released' : 'unknown';
      return {
        ...envelope(
          buildEventId('license.returned', ...instance(license)),
          expired ? license.expirationDate! : takenAt,
        ),
        type: 'license.returned',
        license,
        reason,
      };
    },

    transition(was: LicenseFact, now: LicenseFact): CanonicalEvent | undefined {
      if (now.status === 'revoked' && was.status !== 'revoked') {
        return {
          ...envelope(buildEventId('license.revoked', ...instance(now)), takenAt),
          type: 'license.revoked',
          license: now,
          previousStatus: was.status,
        };
      }
      if (PERMANENT.has(now.status) && PRE_PERMANENT.has(was.status)) {
        return {
          ...envelope(buildEventId('license.upgraded', ...instance(now), was.status, now.status), takenAt),
          type: 'license.upgraded',
          license: now,
          previousStatus: was.status,
        };
      }
      if (isLater(now.expirationDate, was.expirationDate)) {
        return {
          ...envelope(buildEventId('license.renewed', ...instance(now), now.expirationDate), takenAt),
          type: 'license.renewed',
          license: now,
          previousExpirationDate: was.expirationDate,
        };
      }
      return undefined;
    },
  };
}

function isLater(candidate: string | null, than: string | null): boolean {
  if (candidate === null) return false;
  if (than === null) return true;
  return Date.parse(candidate) > Date.parse(than);
}
