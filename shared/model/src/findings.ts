import { z } from 'zod';
import { PUBLISHED_LIST_MAX } from './bounded-lists';
import { CanonicalEvent } from './events';
import { IsoInstant } from './primitives';

export const FindingKind = z.enum([
  'cloned-image',
  'hwid-churn',
  'rebuilt-device',
  'duplicate-name',
  'corrupted-store',
  'pool-exhaustion',
  'leak-rate-spike',
]);
export type FindingKind = z.infer<typeof FindingKind>;

export const Severity = z.enum(['info', 'low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof Severity>;

export const FindingState = z.enum(['open', 'resolved']);

/** Where an open finding stands: its cause holds (`active`) or stopped with CALs still leaked. */
export const FindingStatus = z.enum(['active', 'cause-stopped']);
export type FindingStatus = z.infer<typeof FindingStatus>;

export const TimelineEntry = z.object({
  at: IsoInstant,
  eventId: z.string(),
  note: z.string(),
});

// The counts beside each list are exact; the complete revoke list is the revocations
// topic, one record per license (see Revocation).
const boundedIds = z.array(z.number().int()).max(PUBLISHED_LIST_MAX);
const boundedNames = z.array(z.string()).max(PUBLISHED_LIST_MAX);

/**
 * One batch of a revoke plan, summarised; later batches wait for the 20%-per-version cap to
 * free up. `licenseIds` are the first of the batch in license id order, within the
 * finding's overall bound of PUBLISHED_LIST_MAX ids across all its batches.
 */
export const RevokeBatch = z.object({
  notBefore: IsoInstant,
  /** CALs in the batch. */
  count: z.number().int().positive(),
  /** The CAL version(s) of the batch, as the key packs name them (null: unknown key pack). */
  product: z.string().nullable(),
  licenseIds: boundedIds,
});
export type RevokeBatch = z.infer<typeof RevokeBatch>;

/** Batch summaries from whole batches: ids fill from the first batch, the one to act on next. */
function isAscending(ids: readonly number[]): boolean {
  for (let i = 1; i < ids.length; i++) if (ids[i - 1]! > ids[i]!) return false;
  return true;
}

export function summariseBatches(batches: ReadonlyArray<{ notBefore: string; licenseIds: readonly number[]; product: string | null }>): RevokeBatch[] {
  let room = PUBLISHED_LIST_MAX;
  return batches
    .filter((b) => b.licenseIds.length > 0)
    .map((b) => {
      const ids = (isAscending(b.licenseIds) ? b.licenseIds.slice(0, room) : [...b.licenseIds].sort((x, y) => x - y).slice(0, room));
      room -= ids.length;
      return { notBefore: b.notBefore, count: b.licenseIds.length, product: b.product, licenseIds: ids };
    });
}

export const Finding = z.object({
  /** 2: lists bounded to PUBLISHED_LIST_MAX with exact counts beside them; batches summarised. */
  schemaVersion: z.literal(2),
  /** Deterministic: kind + license server + the anchor (HWID, computer or product). */
  id: z.string(),
  kind: FindingKind,
  state: FindingState,
  /**
   * Only on an open finding whose cause stopped while CALs it leaked are still valid: it stays
   * open, with its revoke plan, until they are revoked, expire or are renewed by their device.
   * Absent: the cause holds (or the finding is resolved). Added within schema version 2.
   */
  status: FindingStatus.optional(),
  severity: Severity,
  licenseServer: z.string(),
  productVersion: z.string().nullable(),
  hwidCount: z.number().int().nonnegative(),
  /** The first PUBLISHED_LIST_MAX HWIDs in sort order. */
  hwids: boundedNames,
  computerCount: z.number().int().nonnegative(),
  /** The first PUBLISHED_LIST_MAX names in sort order. */
  computers: boundedNames,
  licenseCount: z.number().int().nonnegative(),
  /** The newest (highest) PUBLISHED_LIST_MAX license ids, ascending. */
  licenseIds: boundedIds,
  /** CALs held beyond what the devices need: the count of reclaimable CALs. */
  leakedCals: z.number().int().nonnegative(),
  /** The newest (highest) PUBLISHED_LIST_MAX reclaimable license ids, ascending. */
  reclaimableLicenseIds: boundedIds,
  /** Batches in time order (at most the planner's batch limit); every id is on the revocations topic. */
  revokePlan: z.array(RevokeBatch),
  firstSeen: IsoInstant,
  lastSeen: IsoInstant,
  /** Event time of the newest evidence; with `revision` it orders updates of one finding. */
  updatedAt: IsoInstant,
  /** Increases with every update of this finding; used as the external version downstream. */
  revision: z.number().int().nonnegative(),
  timeline: z.array(TimelineEntry),
  summary: z.string(),
  remediation: z.string(),
});
export type Finding = z.infer<typeof Finding>;

/** A canonical event with the chain context the processor saw when it applied it. */
export const EnrichedEvent = z.object({
  /** 2: context lists bounded to PUBLISHED_LIST_MAX with exact counts beside them. */
  schemaVersion: z.literal(2),
  event: CanonicalEvent,
  context: z.object({
    /** Licenses of the event's HWID: the count, and the newest ids ascending. */
    hwidLicenseCount: z.number().int().nonnegative(),
    hwidLicenseIds: boundedIds,
    /** Names the event's HWID was issued to: the count, and the first in sort order. */
    hwidComputerCount: z.number().int().nonnegative(),
    hwidComputers: boundedNames,
    /** HWIDs of the event's computer name: the count, and the first in sort order. */
    computerHwidCount: z.number().int().nonnegative(),
    computerHwids: boundedNames,
    classification: z.union([FindingKind, z.literal('healthy')]),
    findingIds: z.array(z.string()),
  }),
});
export type EnrichedEvent = z.infer<typeof EnrichedEvent>;
