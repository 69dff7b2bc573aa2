import { describe, expect, it } from 'vitest';
import { createChainSummaries } from '../chain-summary';
import { parseCoreConfig } from '../config';
import type { LicenseRecord } from '../license-record';
import { type ClonedImageView, deriveClonedImage, resolveClonedImage } from './cloned-image';
import { day, licenseRecord } from '../../testing/rule-kit';

const config = parseCoreConfig({});

/** A/B/A: the HWID's CAL goes from pc1 to pc2 and back, one reissue per switch. */
const pingPong = [
  licenseRecord({ licenseId: 1, computer: 'pc1', issuedDay: 0 }),
  licenseRecord({ licenseId: 2, computer: 'pc2', issuedDay: 1 }),
  licenseRecord({ licenseId: 3, computer: 'pc1', issuedDay: 2 }),
];
const view = (o: Partial<ClonedImageView>): ClonedImageView => ({ hwid: 'HWID-A', server: 'LS01', chain: pingPong, open: false, clock: day(3), summaries: createChainSummaries(), ...o });

describe('cloned-image rule', () => {
  it('fires on an A/B/A ping-pong and counts the CAL held beyond one per name', () => {
    const derived = deriveClonedImage(view({}), config);
    expect(derived).not.toBeNull();
    expect(derived!.computers).toEqual(['pc1', 'pc2']);
    expect(derived!.candidates.map((c) => c.licenseId)).toEqual([1]);
    expect(derived!.firstSeen).toBe(day(0));
    expect(derived!.describe().summary).toContain('2 reissues');
  });

  it('does not fire on a single rename', () => {
    expect(deriveClonedImage(view({ chain: pingPong.slice(0, 2) }), config)).toBeNull();
  });

  it('ignores licenses issued after the clock', () => {
    expect(deriveClonedImage(view({ clock: day(1.5) }), config)).toBeNull();
  });

  it('holds while open on one recent reissue; once quiet, stays open (cause stopped) until the leaked CAL is no longer valid', () => {
    const quietDays = config.clone.quietDays;
    expect(deriveClonedImage(view({ chain: pingPong.slice(0, 2), open: true }), config)).not.toBeNull();
    expect(deriveClonedImage(view({ open: true }), config)!.causeStopped).toBeUndefined();
    const quiet = deriveClonedImage(view({ open: true, clock: day(2 + quietDays) }), config);
    expect(quiet!.causeStopped).toBe(true);
    expect(quiet!.candidates.map((c) => c.licenseId)).toEqual([1]);
    expect(quiet!.describe().summary).toContain('cause stopped');
    // CAL 1 is valid 60 days from day 0.
    expect(deriveClonedImage(view({ open: true, clock: day(59) }), config)!.causeStopped).toBe(true);
    expect(deriveClonedImage(view({ open: true, clock: day(60) }), config)).toBeNull();
    const resolution = resolveClonedImage(view({ open: true, clock: day(60) }), config);
    expect(resolution.note).toBe('resolved: no leaked CAL is valid any more');
    expect(resolution.summary).toContain('stopped being reissued on LS01');
  });

  it('reports an A/B/A seen only after it went quiet (a late snapshot), cause stopped', () => {
    const late = deriveClonedImage(view({ open: false, clock: day(30) }), config);
    expect(late).not.toBeNull();
    expect(late!.causeStopped).toBe(true);
    expect(late!.candidates.map((c) => c.licenseId)).toEqual([1]);
  });

  it('finds the reissues of a chain', () => {
    const summaries = createChainSummaries();
    expect(summaries.summaryOf(pingPong).switchTimes).toEqual([day(1), day(2)]);
    expect(summaries.summaryOf(pingPong.slice(0, 1)).switchTimes).toEqual([]);
  });
});
