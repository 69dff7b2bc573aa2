import { describe, expect, it } from 'vitest';
import { parseCoreConfig } from '../config';
import { deriveRebuiltDevice, resolveRebuiltDevice } from './rebuilt-device';
import { hwidEntry, licenseRecord, nameFacts } from '../../testing/rule-kit';

const config = parseCoreConfig({});
const confirm = config.rebuild.confirmDays;
const old = hwidEntry('HWID-OLD', [licenseRecord({ licenseId: 1, hwid: 'HWID-OLD', issuedDay: 0 })]);
const fresh = hwidEntry('HWID-NEW', [licenseRecord({ licenseId: 2, hwid: 'HWID-NEW', issuedDay: 10 })]);

describe('rebuilt-device rule', () => {
  it('fires once the new HWID stayed the newest for the confirmation days', () => {
    const derived = deriveRebuiltDevice({ name: nameFacts([old, fresh], 10 + confirm), open: false, churnCoveredUpTo: null }, config);
    expect(derived).not.toBeNull();
    expect(derived!.hwids).toEqual(['HWID-NEW', 'HWID-OLD']);
    expect(derived!.candidates.map((c) => c.licenseId)).toEqual([1]);
  });

  it('waits for confirmation, and leaves HWIDs that came during churn alone', () => {
    expect(deriveRebuiltDevice({ name: nameFacts([old, fresh], 10 + confirm / 2), open: false, churnCoveredUpTo: null }, config)).toBeNull();
    const facts = nameFacts([old, fresh], 10 + confirm);
    expect(deriveRebuiltDevice({ name: facts, open: false, churnCoveredUpTo: facts.newest }, config)).toBeNull();
  });

  it('resolves as not a rebuild when the old HWID proves alive after the new one appeared', () => {
    const renewed = hwidEntry('HWID-OLD', old.licenses, { lastAliveDay: 12 });
    const view = { name: nameFacts([renewed, fresh], 10 + confirm), open: true, churnCoveredUpTo: null };
    expect(deriveRebuiltDevice(view, config)).toBeNull();
    expect(resolveRebuiltDevice(view).note).toBe('resolved: old HWID renewed after the new one appeared');
  });

  it('resolves when the orphaned CAL expired', () => {
    const view = { name: nameFacts([old, fresh], 61), open: true, churnCoveredUpTo: null };
    expect(deriveRebuiltDevice(view, config)).toBeNull();
    expect(resolveRebuiltDevice(view).note).toBe('resolved: no orphaned CAL left');
  });
});
