import { z } from 'zod';
import { FindingKind, IsoInstant } from '@calwatch/model';
import type { ScenarioKind } from './fleet';

export const ScenarioKindSchema = z.enum([
  'cloned-image',
  'vdi-churn',
  'mslicensing-deleter',
  'rebuild',
  'duplicate-name',
  'corrupted-store',
  'pool-exhaustion',
]) satisfies z.ZodType<ScenarioKind>;

/** Which finding kind a detector should raise for each simulated cause. */
export const FINDING_KIND_OF: Readonly<Record<ScenarioKind, FindingKind>> = {
  'cloned-image': 'cloned-image',
  'vdi-churn': 'hwid-churn',
  'mslicensing-deleter': 'hwid-churn',
  rebuild: 'rebuilt-device',
  'duplicate-name': 'duplicate-name',
  'corrupted-store': 'corrupted-store',
  'pool-exhaustion': 'pool-exhaustion',
};

export const TruthScenario = z.object({
  /** Stable within a run: kind and ordinal, e.g. `cloned-image-2`. */
  id: z.string(),
  kind: ScenarioKindSchema,
  findingKind: FindingKind,
  /** True where nothing leaks and nothing should be reclaimed (duplicate names). */
  benign: z.boolean(),
  licenseServer: z.string(),
  /** Normalised HWIDs and computer names involved, sorted. */
  hwids: z.array(z.string()),
  computers: z.array(z.string()),
  machines: z.number().int().nonnegative(),
  /** Every license issued to the scenario's machines during the window (or, for pool exhaustion, issued or refused because the pool was empty). */
  licenseIds: z.array(z.number().int()),
  /** Still listed, not revoked, at the end of the window. */
  liveLicenseIds: z.array(z.number().int()),
  /** Live licenses beyond the newest one per machine: what a fix would reclaim. */
  leakedLicenseIds: z.array(z.number().int()),
  leakedCals: z.number().int().nonnegative(),
  /** Of the leaked ones, how many hold a permanent CAL (temporaries do not drain the pool). */
  leakedPermanentCals: z.number().int().nonnegative(),
  /** First moment the cause was visible in the data (a second HWID/name pair, or event 21). */
  firstEvidenceAt: IsoInstant.nullable(),
  /** Kind-specific facts: deletion period, rebuild time, HWIDs per store, refusals... */
  details: z.record(z.string(), z.union([z.number(), z.string()])),
});
export type TruthScenario = z.infer<typeof TruthScenario>;

/** `truth.json`: what the simulator knows happened, for scoring detection. */
export const GroundTruth = z.object({
  schemaVersion: z.literal(1),
  seed: z.number().int(),
  window: z.object({ start: IsoInstant, end: IsoInstant }),
  licenseServer: z.string(),
  settings: z.object({
    devices: z.number().int(),
    days: z.number().int(),
    pool: z.number().int(),
    snapshotIntervalMs: z.number().int(),
    sessionHosts: z.number().int(),
    temporaryFirst: z.boolean(),
    revokeWhenExhausted: z.boolean(),
    mix: z.string(),
  }),
  totals: z.object({
    healthyMachines: z.number().int(),
    licensesIssued: z.number().int(),
    snapshots: z.number().int(),
    permanentInUseAtEnd: z.number().int(),
    peakPermanentInUse: z.number().int(),
    temporaryAtEnd: z.number().int(),
    revokedListedAtEnd: z.number().int(),
    /** Live licenses of healthy machines beyond one per HWID; 0 unless the model is wrong. */
    healthySurplusAtEnd: z.number().int(),
    serviceEvents: z.record(z.string(), z.number().int()),
  }),
  scenarios: z.array(TruthScenario),
});
export type GroundTruth = z.infer<typeof GroundTruth>;
