import type { Revocation } from '@calwatch/model';
import { sameIds } from './chain';
import type { Candidate, FindingDraft } from './messages';
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

/** Each license's batch (its index) among the batches not `alike`. */
function batchIndexes(batches: readonly PlanBatch[], alike: readonly boolean[]): Map<number, number> {
  const indexes = new Map<number, number>();
  for (let i = 0; i < batches.length; i++) {
    if (alike[i] === true) continue;
    for (const id of batches[i]!.licenseIds) indexes.set(id, i);
  }
  return indexes;
}

/**
 * A finding's candidates by license id, per candidate list (replaced, never changed): a replan
 * revises every finding whose plan moved, and each holds the same draft over many replans.
 */
const candidatesById = new WeakMap<readonly Candidate[], Map<number, Candidate>>();

function candidateById(candidates: readonly Candidate[]): Map<number, Candidate> {
  let byId = candidatesById.get(candidates);
  if (byId === undefined) candidatesById.set(candidates, (byId = new Map(candidates.map((c) => [c.licenseId, c]))));
  return byId;
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
  const { draft, clock, previous, next } = input;
  const due = (t: number) => (t <= clock ? -1 : t);
  // A batch alike in both plans (same place, same licenses, both due or due at the same time)
  // changes none of its licenses' records, and no other license can move into it: a replan
  // of a plan of thousands usually moves the last batch or two.
  const alike: boolean[] = [];
  for (let i = 0; i < Math.min(previous.length, next.length); i++) {
    alike.push(due(previous[i]!.notBefore) === due(next[i]!.notBefore) && sameIds(previous[i]!.licenseIds, next[i]!.licenseIds));
  }
  const before = batchIndexes(previous, alike);
  const after = batchIndexes(next, alike);
  const candidates = candidateById(draft.candidates);
  const updatedAt = toIso(clock);
  const out: Revocation[] = [];
  for (const [licenseId, index] of after) {
    const slot = next[index]!;
    const was = before.get(licenseId);
    if (was === index && due(previous[was]!.notBefore) === due(slot.notBefore)) continue;
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
      batch: index + 1,
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
