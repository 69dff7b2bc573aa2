import { z } from 'zod';
import { LICENSE_STATUS_BY_CODE, LicenseStatus, type LicenseLifecycleEvent } from '@calwatch/model';
import type { CoreConfig } from './config';
import { daysToMs, toMs } from './time';

/**
 * One license as the core tracks it (in the HWID chain and in the name's view). Times are
 * epoch ms. `aliveAt` is a lower bound of the last moment the device proved it was alive
 * (issue, upgrade, renewal), derived from the license facts rather than from when an
 * export happened to observe them.
 */
export const LicenseRecord = z.object({
  server: z.string(),
  licenseId: z.number().int(),
  keyPackId: z.number().int(),
  hwid: z.string(),
  computer: z.string(),
  status: LicenseStatus,
  issuedAt: z.number(),
  expiresAt: z.number().nullable(),
  /** Renewals seen moving the expiry forward (informational: late events may undercount). */
  renewals: z.number().int().nonnegative(),
  aliveAt: z.number(),
  endedAt: z.number().nullable(),
  endReason: z.enum(['returned', 'revoked']).nullable(),
  /** Event time of the newest event applied; older events do not overwrite status or name. */
  updatedAt: z.number(),
  /** The event that first told about this license (normally its issuance), for evidence. */
  eventId: z.string(),
});
export type LicenseRecord = z.infer<typeof LicenseRecord>;

/**
 * Records are most of the core's memory (one per license). Every record of a server holds the
 * same few status and server strings; each parsed event brings its own copies, so a record
 * keeps one shared copy instead (about 50 bytes per license).
 */
const STATUSES = new Map<string, LicenseStatus>(LICENSE_STATUS_BY_CODE.map((status) => [status, status]));
const SERVERS = new Map<string, string>();
/** More license servers than any estate has: past it, names are not shared. */
const SERVERS_MAX = 4096;

function sharedStatus(status: LicenseStatus): LicenseStatus {
  return STATUSES.get(status) ?? status;
}

/** The one copy of a license server's name the core keeps. */
export function sharedServerName(name: string): string {
  const known = SERVERS.get(name);
  if (known !== undefined) return known;
  if (SERVERS.size < SERVERS_MAX) SERVERS.set(name, name);
  return name;
}

/** A licenseId can be reused for another device; the issue date tells the instances apart. */
export function licenseKey(server: string, licenseId: number, issuedAt: number): string {
  return `${server}|${licenseId}|${issuedAt}`;
}

export function recordKey(record: LicenseRecord): string {
  return licenseKey(record.server, record.licenseId, record.issuedAt);
}

export function eventLicenseKey(event: LicenseLifecycleEvent): string {
  return licenseKey(event.licenseServer, event.license.licenseId, toMs(event.license.issueDate));
}

/** Permanent per-device CALs are what the purchased pool pays for; temporaries are free. */
export function isPermanent(status: LicenseStatus): boolean {
  return status === 'active' || status === 'upgrade';
}

export function isValidAt(record: LicenseRecord, at: number): boolean {
  if (record.endedAt !== null && record.endedAt <= at) return false;
  return record.expiresAt === null || record.expiresAt > at;
}

/** A valid permanent CAL: one the pool is paying for right now. */
export function holdsCalAt(record: LicenseRecord, at: number): boolean {
  return isPermanent(record.status) && isValidAt(record, at);
}

/**
 * Applies one lifecycle event to the record of its license (undefined when first seen).
 * Idempotent (a redelivered event changes nothing) and tolerant of order: expiry only
 * moves forward, an end is kept once seen, and status/name follow the newest event.
 */
export function applyLicenseEvent(
  previous: LicenseRecord | undefined,
  event: LicenseLifecycleEvent,
  config: CoreConfig,
): LicenseRecord {
  const fact = event.license;
  const at = toMs(event.eventTime);
  const issuedAt = toMs(fact.issueDate);
  const expiresAt = fact.expirationDate === null ? null : toMs(fact.expirationDate);
  const record: LicenseRecord = previous
    ? { ...previous }
    : {
        server: sharedServerName(event.licenseServer),
        licenseId: fact.licenseId,
        keyPackId: fact.keyPackId,
        hwid: fact.hwid.norm,
        computer: fact.computer.norm,
        status: sharedStatus(fact.status),
        issuedAt,
        expiresAt,
        renewals: 0,
        aliveAt: issuedAt,
        endedAt: null,
        endReason: null,
        updatedAt: at,
        eventId: event.eventId,
      };

  if (expiresAt !== null && (record.expiresAt === null || expiresAt > record.expiresAt)) {
    if (previous !== undefined && record.expiresAt !== null) record.renewals += 1;
    record.expiresAt = expiresAt;
  }
  // Evidence points at the issuance when there is one, whatever order events came in.
  if (event.type === 'license.issued') record.eventId = event.eventId;
  if (at >= record.updatedAt) {
    record.updatedAt = at;
    record.computer = fact.computer.norm;
    record.keyPackId = fact.keyPackId;
    if (record.endedAt === null || event.type === 'license.revoked' || event.type === 'license.returned') {
      record.status = sharedStatus(fact.status);
    }
  }

  switch (event.type) {
    case 'license.revoked':
      record.status = 'revoked';
      record.endedAt = record.endedAt === null ? at : Math.min(record.endedAt, at);
      record.endReason = 'revoked';
      break;
    case 'license.returned':
      record.endedAt = record.endedAt === null ? at : Math.min(record.endedAt, at);
      record.endReason ??= event.reason === 'released' ? 'revoked' : 'returned';
      break;
    case 'license.renewed':
      if (event.previousExpirationDate !== null) {
        // Renewal happens only within the renew window of the old expiry.
        const renewWindowStart = toMs(event.previousExpirationDate) - daysToMs(config.lifecycle.renewWithinDays);
        record.aliveAt = Math.max(record.aliveAt, Math.min(renewWindowStart, at));
      }
      break;
    default:
      break;
  }
  record.aliveAt = Math.max(record.aliveAt, aliveLowerBound(record, config));
  return record;
}

/**
 * A permanent CAL's validity is at most permanentMaxDays from its last upgrade or renewal,
 * so expiry minus that bound is a moment the device certainly connected.
 */
function aliveLowerBound(record: LicenseRecord, config: CoreConfig): number {
  if (!isPermanent(record.status) || record.expiresAt === null) return record.issuedAt;
  return Math.max(record.issuedAt, record.expiresAt - daysToMs(config.lifecycle.permanentMaxDays));
}
