import { describe, expect, it } from 'vitest';
import { parseCoreConfig } from '../config';
import { deriveCorruptedStore, resolveCorruptedStore } from './corrupted-store';
import { day, hwidEntry, licenseRecord, nameFacts } from '../../testing/rule-kit';

const config = parseCoreConfig({});
const facts = nameFacts(
  [
    hwidEntry('HWID-A', [licenseRecord({ licenseId: 1, hwid: 'HWID-A', issuedDay: 0 })]),
    hwidEntry('HWID-B', [licenseRecord({ licenseId: 2, hwid: 'HWID-B', issuedDay: 5 })]),
  ],
  10,
);
const store = (hwids: string[]) => ({ at: day(9), eventId: 'store:1', hwids });

describe('corrupted-store rule', () => {
  it('fires on a store holding two HWIDs and offers every CAL beyond the one in use', () => {
    const derived = deriveCorruptedStore({ name: facts, store: store(['HWID-A', 'HWID-C']) }, config);
    expect(derived).not.toBeNull();
    expect(derived!.hwids).toEqual(['HWID-A', 'HWID-B', 'HWID-C']);
    expect(derived!.candidates.map((c) => c.licenseId)).toEqual([1]);
    expect(derived!.firstSeen).toBe(day(9));
    expect(derived!.history()).toEqual([{ at: day(9), eventId: 'store:1', note: expect.stringContaining('store lists HWIDs') }]);
  });

  it('does not fire on a sane store or without one', () => {
    expect(deriveCorruptedStore({ name: facts, store: store(['HWID-B']) }, config)).toBeNull();
    expect(deriveCorruptedStore({ name: facts, store: null }, config)).toBeNull();
  });

  it('resolves as a repaired store', () => {
    expect(resolveCorruptedStore({ name: facts, store: store(['HWID-B']) }).note).toBe('resolved: store repaired');
  });
});
