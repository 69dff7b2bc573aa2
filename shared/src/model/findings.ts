import { z } from 'zod';
import { CanonicalEvent } from './events';
import { IsoInstant } from './primitives';

export const FindingKind = z.enum([
  'cloned-image',
  'hwid-churn',
  'rebuilt-device',
  'duplicate-name',
  'corrupted-store',
  'pool-exhaustion',
]);
export type FindingKind = z.infer<typeof FindingKind>;

export const Severity = z.enum(['info', 'low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof Severity>;

export const FindingState = z.enum(['open', 'resolved']);

export const TimelineEntry = z.object({
  at: IsoInstant,
  eventId: z.string(),
  note: z.string(),
});

/** One batch of a revoke plan; later batches wait for the 20%-per-version cap to free up. */
export const RevokeBatch = z.object({
  notBefore: IsoInstant,
  licenseIds: z.array(z.number().int()),
});

export const Finding = z.object({
  schemaVersion: z.literal(1),
  /** Deterministic: kind + license server + the anchor (HWID, computer or product). */
  id: z.string(),
  kind: FindingKind,
  state: FindingState,
  severity: Severity,
  licenseServer: z.string(),
  productVersion: z.string().nullable(),
  hwids: z.array(z.string()),
  computers: z.array(z.string()),
  licenseIds: z.array(z.number().int()),
  /** CALs held beyond what the devices need. */
  leakedCals: z.number().int().nonnegative(),
  reclaimableLicenseIds: z.array(z.number().int()),
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
  schemaVersion: z.literal(1),
  event: CanonicalEvent,
  context: z.object({
    hwidLicenseIds: z.array(z.number().int()),
    hwidComputers: z.array(z.string()),
    computerHwids: z.array(z.string()),
    classification: z.union([FindingKind, z.literal('healthy')]),
    findingIds: z.array(z.string()),
  }),
});
export type EnrichedEvent = z.infer<typeof EnrichedEvent>;
