import { z } from 'zod';
import { countDistinct, firstNames, newestIds } from './bounded-lists';
import { EnrichedEvent, Finding, summariseBatches } from './findings';
import { IsoInstant } from './primitives';

/**
 * Version 1 of Finding and EnrichedEvent carried every HWID, name and license id. Records of
 * that version can still be on the topics when the processor is upgraded (consumer lag, a
 * replay of retained records); consumers read them through FindingRecord and
 * EnrichedEventRecord, which bound them on the way in instead of dead-lettering them.
 */
const FindingV1 = Finding.omit({
  schemaVersion: true,
  hwidCount: true,
  computerCount: true,
  licenseCount: true,
  hwids: true,
  computers: true,
  licenseIds: true,
  reclaimableLicenseIds: true,
  revokePlan: true,
}).extend({
  schemaVersion: z.literal(1),
  hwids: z.array(z.string()),
  computers: z.array(z.string()),
  licenseIds: z.array(z.number().int()),
  reclaimableLicenseIds: z.array(z.number().int()),
  revokePlan: z.array(z.object({ notBefore: IsoInstant, licenseIds: z.array(z.number().int()) })),
});
type FindingV1 = z.infer<typeof FindingV1>;

const EnrichedEventV1 = EnrichedEvent.omit({ schemaVersion: true, context: true }).extend({
  schemaVersion: z.literal(1),
  context: z.object({
    hwidLicenseIds: z.array(z.number().int()),
    hwidComputers: z.array(z.string()),
    computerHwids: z.array(z.string()),
    classification: EnrichedEvent.shape.context.shape.classification,
    findingIds: z.array(z.string()),
  }),
});
type EnrichedEventV1 = z.infer<typeof EnrichedEventV1>;

export function upgradeFindingV1(v1: FindingV1): Finding {
  return {
    ...v1,
    schemaVersion: 2,
    hwidCount: countDistinct(v1.hwids),
    hwids: firstNames(v1.hwids),
    computerCount: countDistinct(v1.computers),
    computers: firstNames(v1.computers),
    licenseCount: countDistinct(v1.licenseIds),
    licenseIds: newestIds(v1.licenseIds),
    reclaimableLicenseIds: newestIds(v1.reclaimableLicenseIds),
    // Version 1 did not name a batch's product: the finding's is the best known.
    revokePlan: summariseBatches(v1.revokePlan.map((b) => ({ ...b, product: v1.productVersion }))),
  };
}

export function upgradeEnrichedEventV1(v1: EnrichedEventV1): EnrichedEvent {
  const { context } = v1;
  return {
    ...v1,
    schemaVersion: 2,
    context: {
      hwidLicenseCount: countDistinct(context.hwidLicenseIds),
      hwidLicenseIds: newestIds(context.hwidLicenseIds),
      hwidComputerCount: countDistinct(context.hwidComputers),
      hwidComputers: firstNames(context.hwidComputers),
      computerHwidCount: countDistinct(context.computerHwids),
      computerHwids: firstNames(context.computerHwids),
      classification: context.classification,
      findingIds: context.findingIds,
    },
  };
}

function upgrading<V>(old: z.ZodType<V>, upgrade: (v: V) => unknown): (value: unknown) => unknown {
  return (value) => {
    if (typeof value !== 'object' || value === null || (value as { schemaVersion?: unknown }).schemaVersion !== 1) return value;
    const parsed = old.safeParse(value);
    // Not a valid version 1 either: the current schema reports why.
    return parsed.success ? upgrade(parsed.data) : value;
  };
}

/** A finding as consumers read it from the topic: version 2, or version 1 bounded to it. */
export const FindingRecord = z.preprocess(upgrading(FindingV1, upgradeFindingV1), Finding);

/** An enriched event as consumers read it from the topic: version 2, or version 1 bounded to it. */
export const EnrichedEventRecord = z.preprocess(upgrading(EnrichedEventV1, upgradeEnrichedEventV1), EnrichedEvent);
