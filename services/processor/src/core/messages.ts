import { z } from 'zod';
import { CanonicalEvent, EnrichedEvent, Finding, FindingKind, FindingState, KeyPackInventory, LicenseStatus, ServiceEvent, Severity, TimelineEntry, ClientStoreInventory, LicenseIssued, LicenseRenewed, LicenseUpgraded, LicenseRevoked, LicenseReturned, type LicenseLifecycleEvent, type Revocation } from '@calwatch/model';
import { LicenseRecord } from './license-record';

/**
 * Messages between the stages. In the streaming runtime they travel on internal
 * (repartition) topics keyed as documented on each; these schemas decode them there.
 * Times are epoch ms.
 */

/** Time passes for one key: expiries, quiet periods and TTLs are evaluated at `at`. */
export const Tick = z.object({
  type: z.literal('tick'),
  at: z.number(),
  /** Send every open finding whose texts or timeline changed since its last update. */
  flush: z.boolean().optional(),
});
export type Tick = z.infer<typeof Tick>;

/** What the HWID chain knew when it forwarded a license to the name's stage. */
export const HwidContext = z.object({
  licenseIds: z.array(z.number().int()),
  computers: z.array(z.string()),
  findingIds: z.array(z.string()),
  classification: z.union([FindingKind, z.literal('healthy')]),
});
export type HwidContext = z.infer<typeof HwidContext>;

/** by-hwid -> by-computer, keyed by `computerKey(server, computer)`. */
export const NameObservation = z.object({
  type: z.literal('name-observation'),
  at: z.number(),
  computerRaw: z.string(),
  license: LicenseRecord,
  /** The license now carries another name: drop it from this name's view. */
  moved: z.boolean(),
  /** The event that caused it, for the enriched stream (null when moved). */
  event: CanonicalEvent.nullable(),
  hwidContext: HwidContext,
});
export type NameObservation = z.infer<typeof NameObservation>;

/** by-hwid -> by-server, keyed by license server: the facts the pool and quota need. */
export const LicenseFactMessage = z.object({
  type: z.literal('license-fact'),
  at: z.number(),
  eventId: z.string(),
  eventType: z.enum(['license.issued', 'license.renewed', 'license.upgraded', 'license.revoked', 'license.returned']),
  licenseId: z.number().int(),
  keyPackId: z.number().int(),
  status: LicenseStatus,
  previousStatus: LicenseStatus.nullable(),
  issuedAt: z.number(),
  expiresAt: z.number().nullable(),
});
export type LicenseFactMessage = z.infer<typeof LicenseFactMessage>;

/** A CAL a revoke would return, with what the planner needs to schedule it. */
export const Candidate = z.object({
  licenseId: z.number().int(),
  keyPackId: z.number().int(),
  expiresAt: z.number().nullable(),
});
export type Candidate = z.infer<typeof Candidate>;

/** by-hwid / by-computer -> by-server, keyed by license server: a finding as its owner sees it. */
export const FindingDraft = z.object({
  type: z.literal('finding-draft'),
  at: z.number(),
  id: z.string(),
  kind: FindingKind,
  state: FindingState,
  severity: Severity,
  licenseServer: z.string(),
  hwids: z.array(z.string()),
  computers: z.array(z.string()),
  licenseIds: z.array(z.number().int()),
  keyPackIds: z.array(z.number().int()),
  candidates: z.array(Candidate),
  firstSeen: z.number(),
  lastSeen: z.number(),
  timeline: z.array(TimelineEntry),
  summary: z.string(),
  remediation: z.string(),
  /** The cause stopped while leaked CALs are still valid (absent: the cause holds). */
  causeStopped: z.literal(true).optional(),
});
export type FindingDraft = z.infer<typeof FindingDraft>;

export const ByHwidMessage = z.discriminatedUnion('type', [
  Tick,
  LicenseIssued,
  LicenseRenewed,
  LicenseUpgraded,
  LicenseRevoked,
  LicenseReturned,
]);
export type ByHwidMessage = Tick | LicenseLifecycleEvent;

export const ByComputerMessage = z.discriminatedUnion('type', [Tick, NameObservation, ClientStoreInventory]);
export type ByComputerMessage = z.infer<typeof ByComputerMessage>;

export const ByServerMessage = z.discriminatedUnion('type', [
  Tick,
  LicenseFactMessage,
  FindingDraft,
  KeyPackInventory,
  ServiceEvent,
]);
export type ByServerMessage = z.infer<typeof ByServerMessage>;

/** Where a stage output goes; `findings`, `enriched` and `revocations` are the pipeline's sinks. */
export type StageOutput =
  | { topic: 'by-computer'; key: string; message: NameObservation | z.infer<typeof ClientStoreInventory> }
  | { topic: 'by-server'; key: string; message: LicenseFactMessage | FindingDraft | z.infer<typeof KeyPackInventory> | z.infer<typeof ServiceEvent> }
  | { topic: 'enriched'; key: string; message: EnrichedEvent }
  | { topic: 'findings'; key: string; message: Finding }
  | { topic: 'revocations'; key: string; message: Revocation };

/** How a stage is built beyond the detection config. */
export interface StageOptions {
  /**
   * Build an enriched event per input event (default true). Off when nobody reads them
   * (`calwatch analyze` reports findings only): the context of every event is then not built.
   */
  enriched?: boolean;
}

export interface StageResult<S> {
  state: S;
  outputs: StageOutput[];
}

/** The by-computer key: one name on one license server. */
export function computerKey(server: string, computer: string): string {
  return `${server}|${computer}`;
}
