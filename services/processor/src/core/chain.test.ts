import { describe, expect, it } from 'vitest';
import { chainSurplus, compareRecords, splitInUse } from './chain';
import type { LicenseRecord } from './license-record';
import { createSeededRandom } from '../testing/timeline-kit';

const DAY = 86_400_000;

/** A chain of one HWID on one server: names taking turns, some CALs temporary, ended or expired. */
function randomChain(seed: number, length: number): LicenseRecord[] {
  const next = createSeededRandom(seed);
  const chain: LicenseRecord[] = [];
  for (let i = 0; i < length; i++) {
    const issuedAt = Math.floor(next() * 80) * DAY;
    const ended = next() < 0.1;
    chain.push({
      server: 'LS01',
      licenseId: i + 1,
      keyPackId: 2,
      hwid: 'h',
      computer: `PC-${Math.floor(next() * 5)}`,
      status: next() < 0.15 ? 'temporary' : 'active',
      issuedAt,
      expiresAt: issuedAt + Math.floor(30 + next() * 60) * DAY,
      renewals: 0,
      aliveAt: issuedAt,
      endedAt: ended ? issuedAt + DAY : null,
      endReason: ended ? 'revoked' : null,
      updatedAt: issuedAt,
      eventId: `e${i}`,
    });
  }
  return chain.sort(compareRecords);
}

describe('chainSurplus', () => {
  it('equals splitInUse on chains in chain order, at any clock', () => {
    let found = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const chain = randomChain(seed, 1 + (seed % 7) * 40);
      for (const clock of [10 * DAY, 50 * DAY, 100 * DAY, 170 * DAY]) {
        const expected = splitInUse(chain, (r) => r.computer, clock).surplus;
        expect(chainSurplus(chain, (r) => r.computer, clock)).toEqual(expected);
        found += expected.length;
      }
    }
    expect(found).toBeGreaterThan(500);
  });
});
