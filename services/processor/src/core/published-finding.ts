import { type Finding, countDistinct, firstNames, newestIds, summariseBatches } from '@calwatch/model';
import type { FindingDraft } from './messages';
import type { PlanBatch } from './rules/revoke-plan';
import { toIso } from './time';

/** What by-server knows of a finding when it publishes it, with its complete lists. */
export interface FindingFacts {
  draft: FindingDraft;
  productVersion: string | null;
  /** Reclaimable license ids (empty once resolved). */
  reclaimable: readonly number[];
  /** The finding's batches as planned (empty once resolved). */
  batches: readonly PlanBatch[];
  /** The product version(s) of a set of licenses, for the batch summaries. */
  productOf(licenseIds: readonly number[]): string | null;
  updatedAt: number;
}

/**
 * The published finding: exact counts and bounded lists. The revoke plan keeps one summary
 * per batch; its ids fill from the first batch, the one to act on next, up to
 * PUBLISHED_LIST_MAX in all. The revocations topic has every id.
 */
export function buildPublishedFinding(facts: FindingFacts): Finding {
  const { draft } = facts;
  // Up to a few hundred ids on a cloned image, on every update: made distinct once, for the count and the list.
  const reclaimable = newestIds(facts.reclaimable, Number.MAX_SAFE_INTEGER);
  const revokePlan = summariseBatches(facts.batches.map((b) => ({ notBefore: toIso(b.notBefore), licenseIds: b.licenseIds, product: facts.productOf(b.licenseIds) })));
  return {
    schemaVersion: 2,
    id: draft.id,
    kind: draft.kind,
    state: draft.state,
    ...(draft.state === 'open' && draft.causeStopped === true ? { status: 'cause-stopped' as const } : {}),
    severity: draft.severity,
    licenseServer: draft.licenseServer,
    productVersion: facts.productVersion,
    hwidCount: countDistinct(draft.hwids),
    hwids: firstNames(draft.hwids),
    computerCount: countDistinct(draft.computers),
    computers: firstNames(draft.computers),
    licenseCount: countDistinct(draft.licenseIds),
    licenseIds: newestIds(draft.licenseIds),
    leakedCals: reclaimable.length,
    reclaimableLicenseIds: newestIds(reclaimable),
    revokePlan,
    firstSeen: toIso(draft.firstSeen),
    lastSeen: toIso(draft.lastSeen),
    updatedAt: toIso(facts.updatedAt),
    revision: 0,
    timeline: draft.timeline,
    summary: draft.summary,
    remediation: draft.remediation,
  };
}
