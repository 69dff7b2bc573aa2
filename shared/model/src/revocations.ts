import { z } from 'zod';
import { FindingKind } from './findings';
import { IsoInstant } from './primitives';

/**
 * One CAL in a revoke plan: the revocations topic carries one record per planned license,
 * keyed by `buildRevocationKey`, and only when it changes (planned, moved to another batch
 * or finding, withdrawn). Folding the records by key gives the complete, pageable plan that
 * a finding only summarises.
 */
export const PlannedRevocation = z.object({
  schemaVersion: z.literal(1),
  state: z.literal('planned'),
  licenseServer: z.string(),
  licenseId: z.number().int(),
  findingId: z.string(),
  kind: FindingKind,
  keyPackId: z.number().int(),
  /** The key pack's product version (null: key pack not inventoried yet). */
  productVersion: z.string().nullable(),
  /** 1-based position of the license's batch in its finding's plan. */
  batch: z.number().int().positive(),
  /** When the 20% revocation cap allows it (in the past: now). */
  notBefore: IsoInstant,
  /** The CAL's original expiry (null: unknown); it returns by itself then. */
  expiresAt: IsoInstant.nullable(),
  /** Event time of the step that planned or moved it. */
  updatedAt: IsoInstant,
});
export type PlannedRevocation = z.infer<typeof PlannedRevocation>;

/** The license left the plan: its finding resolved, or it was revoked, expired or no longer surplus. */
export const WithdrawnRevocation = z.object({
  schemaVersion: z.literal(1),
  state: z.literal('withdrawn'),
  licenseServer: z.string(),
  licenseId: z.number().int(),
  findingId: z.string(),
  kind: FindingKind,
  reason: z.enum(['finding-resolved', 'left-plan']),
  updatedAt: IsoInstant,
});
export type WithdrawnRevocation = z.infer<typeof WithdrawnRevocation>;

export const Revocation = z.discriminatedUnion('state', [PlannedRevocation, WithdrawnRevocation]);
export type Revocation = z.infer<typeof Revocation>;

/** Kafka key and document id of a revocation: one license on one license server. */
export function buildRevocationKey(licenseServer: string, licenseId: number): string {
  return `${licenseServer}|${licenseId}`;
}
