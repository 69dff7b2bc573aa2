import type { Revocation } from '@calwatch/model';
import type { FindingDraft } from './messages';
import type { PlanBatch } from './rules/revoke-plan';
import { toIso } from './time';

export interface RevocationDiffInput {
  /** The finding as it stands now (its candidates give key pack and expiry). */
  draft: FindingDraft;
  /** The batches last published with the finding, and the ones published now ([] once resolved). */
  previous: readonly PlanBatch[];
  next: readonly PlanBatch[];
  clock: number;
  /** The finding that holds a license in the server's current plan, if any. */
  ownerOf(licenseId: number): string | undefined;
  productVersionOf(keyPackId: number): string | null;
}

interface Slot {
  batch: number;
  notBefore: number;
}

function slotsOf(batches: readonly PlanBatch[]): Map<number, Slot> {
  const slots = new Map<number, Slot>();
  batches.forEach((b, i) => {
    for (const id of b.licenseIds) slots.set(id, { batch: i + 1, notBefore: b.notBefore });
  });
  return slots;
}

/**
 * The revocation records one publication of a finding's plan changes: a license newly
 * planned or moved to another batch gets a `planned` record, one that left the plan a
 * `withdrawn` record, the rest nothing. Batches that are due compare equal whatever their
 * time, as the finding's own republication does, so a re-plan that only moves "now" writes
 * nothing. A license that left this finding for another one's plan is not withdrawn: the
 * other finding's `planned` record replaces it under the same key.
 */
export function diffRevocations(input: RevocationDiffInput): Revocation[] {
  const { draft, clock } = input;
  const before = slotsOf(input.previous);
  const after = slotsOf(input.next);
  const due = (t: number) => (t <= clock ? -1 : t);
  const candidates = new Map(draft.candidates.map((c) => [c.licenseId, c]));
  const updatedAt = toIso(clock);
  const out: Revocation[] = [];
  for (const [licenseId, slot] of after) {
    const was = before.get(licenseId);
    if (was !== undefined && was.batch === slot.batch && due(was.notBefore) === due(slot.notBefore)) continue;
    const candidate = candidates.get(licenseId);
    out.push({
      schemaVersion: 1,
      state: 'planned',
      licenseServer: draft.licenseServer,
      licenseId,
      findingId: draft.id,
      kind: draft.kind,
      keyPackId: candidate?.keyPackId ?? -1,
      productVersion: candidate === undefined ? null : input.productVersionOf(candidate.keyPackId),
      batch: slot.batch,
      notBefore: toIso(slot.notBefore),
      expiresAt: candidate?.expiresAt == null ? null : toIso(candidate.expiresAt),
      updatedAt,
    });
  }
  for (const licenseId of before.keys()) {
    if (after.has(licenseId)) continue;
    const owner = input.ownerOf(licenseId);
    if (owner !== undefined && owner !== draft.id) continue;
    out.push({
      schemaVersion: 1,
      state: 'withdrawn',
      licenseServer: draft.licenseServer,
      licenseId,
      findingId: draft.id,
      kind: draft.kind,
      reason: draft.state === 'resolved' ? 'finding-resolved' : 'left-plan',
      updatedAt,
    });
  }
  return out.sort((a, b) => a.licenseId - b.licenseId);
}
