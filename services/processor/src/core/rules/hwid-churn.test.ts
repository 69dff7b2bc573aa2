import { describe, expect, it } from 'vitest';
import { parseCoreConfig } from '../config';
import { deriveHwidChurn, resolveHwidChurn } from './hwid-churn';
import { hwidEntry, licenseRecord, nameFacts } from '../../testing/rule-kit';

const config = parseCoreConfig({});
const entry = (n: number, issuedDay: number) =>
  hwidEntry(`HWID-${n}`, [licenseRecord({ licenseId: n, hwid: `HWID-${n}`, issuedDay })]);
const three = [entry(1, 0), entry(2, 5), entry(3, 10)];

describe('hwid-churn rule', () => {
  it('fires on enough new HWIDs within the window', () => {
    const derived = deriveHwidChurn({ name: nameFacts(three, 11), open: false }, config);
    expect(derived).not.toBeNull();
    expect(derived!.hwids).toEqual(['HWID-1', 'HWID-2', 'HWID-3']);
    expect(derived!.candidates.map((c) => c.licenseId)).toEqual([1, 2]);
    expect(derived!.describe().summary).toContain('presented 3 new HWIDs');
  });

  it('does not open on two HWIDs, but holds on them once open', () => {
    const facts = nameFacts(three.slice(0, 2), 11);
    expect(deriveHwidChurn({ name: facts, open: false }, config)).toBeNull();
    expect(deriveHwidChurn({ name: facts, open: true }, config)).not.toBeNull();
  });

  it('once no new HWID came for the quiet period, stays open (cause stopped) until the leaked CALs are no longer valid', () => {
    const quiet = deriveHwidChurn({ name: nameFacts(three, 10 + config.churn.quietDays), open: true }, config);
    expect(quiet!.causeStopped).toBe(true);
    expect(quiet!.candidates.map((c) => c.licenseId)).toEqual([1, 2]);
    // CAL 2, the last leaked one, is valid 60 days from day 5.
    const expired = nameFacts(three, 65);
    expect(deriveHwidChurn({ name: expired, open: true }, config)).toBeNull();
    expect(resolveHwidChurn({ name: expired, open: true }, config).note).toBe('resolved: no leaked CAL is valid any more');
  });
});
