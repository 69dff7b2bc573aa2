import { describe, expect, it } from 'vitest';
import { compareRecords, pruneChain, splitInUse, withRecord } from './chain';
import { parseCoreConfig } from './config';
import { type ChainStanding, createChainSummaries } from './chain-summary';
import type { LicenseRecord } from './license-record';
import type { Candidate } from './messages';
import { licenseRecordAt } from '../testing/rule-kit';
import { createSeededRandom } from '../testing/timeline-kit';

const DAY = 86_400_000;

const license = (licenseId: number, computer: string, issuedAt: number, o: Partial<LicenseRecord> = {}) =>
  licenseRecordAt(licenseId, issuedAt, { keyPackId: 2, hwid: 'h', computer, ...o });

/** CALs that joined, left or changed between two lists: what a track counts by comparing them. */
function changesBetween(a: readonly Candidate[], b: readonly Candidate[]): number {
  const before = new Map(a.map((c) => [c.licenseId, c]));
  let kept = 0;
  for (const c of b) {
    const x = before.get(c.licenseId);
    if (x !== undefined && x.keyPackId === c.keyPackId && x.expiresAt === c.expiresAt) kept++;
  }
  return a.length - kept + (b.length - kept);
}

/** Every edit a standing names gives the count comparing the lists would. */
function checkEdits(s: ChainStanding): number {
  for (const edit of s.changedFrom ?? []) expect(edit.changes).toBe(changesBetween(edit.base, s.candidates));
  return s.changedFrom?.length ?? 0;
}

/** What a standing says, without the hint and the map's insertion order. */
function plain(s: ChainStanding) {
  return {
    validUntil: s.validUntil,
    nextExpiry: s.nextExpiry,
    newest: Object.fromEntries([...s.newest].sort(([a], [b]) => (a < b ? -1 : 1))),
    surplus: s.surplus,
    candidates: s.candidates,
  };
}

describe('chain summaries', () => {
  it('a standing holds the surplus splitInUse finds, at any clock', () => {
    const random = createSeededRandom(7);
    let found = 0;
    for (let round = 0; round < 40; round++) {
      const chain: LicenseRecord[] = [];
      for (let i = 0; i < 1 + round * 7; i++) {
        const issuedAt = Math.floor(random() * 80) * DAY;
        const ended = random() < 0.1;
        chain.push(
          license(i + 1, `PC-${Math.floor(random() * 5)}`, issuedAt, {
            status: random() < 0.15 ? 'temporary' : 'active',
            expiresAt: issuedAt + Math.floor(30 + random() * 60) * DAY,
            ...(ended ? { endedAt: issuedAt + DAY, endReason: 'revoked' as const } : {}),
          }),
        );
      }
      chain.sort(compareRecords);
      for (const clock of [10 * DAY, 50 * DAY, 100 * DAY, 170 * DAY]) {
        const expected = splitInUse(chain, (r) => r.computer, clock).surplus;
        expect(createChainSummaries().standingOf(chain, clock).surplus).toEqual(expected);
        found += expected.length;
      }
    }
    expect(found).toBeGreaterThan(500);
  });

  it('carried from chain to chain, equals what is derived from each chain afresh', () => {
    // A cap of 60 licenses: past it every reissue drops the oldest (pruneChain), as a chain of
    // thousands does at the default cap.
    const capped = parseCoreConfig({ state: { maxLicensesPerKey: 60 } });
    // A cloned image on four names: mostly reissues at the end, some late licenses landing in
    // the middle, renewals and revocations in place, the clock moving past expiries.
    const random = createSeededRandom(11);
    const summaries = createChainSummaries();
    let chain: LicenseRecord[] = [];
    let clock = 0;
    let carried = 0;
    let pruned = 0;
    let prunedWithin = 0;
    let edits = 0;
    for (let i = 1; i <= 1500; i++) {
      clock += Math.floor(random() * 3 * 3_600_000);
      let previous: LicenseRecord | undefined;
      let record: LicenseRecord;
      const roll = random();
      if (roll < 0.08 && chain.length > 0) {
        previous = chain[Math.floor(random() * chain.length)]!;
        const renew = random() < 0.5;
        record = renew
          ? { ...previous, expiresAt: (previous.expiresAt ?? clock) + 30 * DAY, updatedAt: clock }
          : { ...previous, status: 'revoked', endedAt: clock, endReason: 'revoked', updatedAt: clock };
      } else {
        const late = roll < 0.12 ? Math.floor(random() * 5 * DAY) : 0;
        record = license(i, `KIOSK-${Math.floor(random() * 4)}`, Math.max(0, clock - late), {
          status: random() < 0.1 ? 'temporary' : 'active',
          expiresAt: clock + Math.floor(20 + random() * 60) * DAY,
          updatedAt: clock,
        });
      }
      // The stage asks about the chain before it changes, then carries it over.
      const before = chain;
      summaries.summaryOf(before);
      summaries.standingOf(before, clock);
      chain = withRecord(before, record);
      summaries.follow(before, chain, previous, record, clock);
      const standing = summaries.standingOf(chain, clock);
      if (standing.changedFrom !== undefined) carried++;
      edits += checkEdits(standing);
      const fresh = createChainSummaries();
      expect(summaries.summaryOf(chain)).toEqual(fresh.summaryOf(chain));
      expect(plain(standing)).toEqual(plain(fresh.standingOf(chain, clock)));
      // The stage prunes after the step, and the next message starts from what it kept.
      const unpruned = chain;
      // With the summary's bounds, as the stage prunes: the same chain as a prune that reads every license.
      chain = pruneChain(unpruned, clock, capped, summaries.summaryOf(unpruned));
      expect(chain).toEqual(pruneChain(unpruned, clock, capped));
      if (chain !== unpruned) {
        // Revoked licenses past their retention leave from within the chain.
        if (chain.length > 0 && chain[0] !== unpruned[unpruned.length - chain.length]) prunedWithin++;
        if (summaries.followPrune(unpruned, chain, clock)) pruned++;
        edits += checkEdits(summaries.standingOf(chain, clock));
        expect(summaries.summaryOf(chain)).toEqual(createChainSummaries().summaryOf(chain));
        expect(plain(summaries.standingOf(chain, clock))).toEqual(plain(createChainSummaries().standingOf(chain, clock)));
      }
    }
    // Most steps were carried over, not derived again; most of them pruned the oldest license.
    expect(carried).toBeGreaterThan(1000);
    expect(pruned).toBeGreaterThan(1000);
    expect(prunedWithin).toBeGreaterThan(100);
    expect(edits).toBeGreaterThan(3000);
  });
});
