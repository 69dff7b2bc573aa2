import { describe, expect, it } from 'vitest';
import { deriveDuplicateName, resolveDuplicateName } from './duplicate-name';
import { hwidEntry, licenseRecord, nameFacts } from '../../testing/rule-kit';

const first = hwidEntry('HWID-A', [licenseRecord({ licenseId: 1, hwid: 'HWID-A', issuedDay: 0 })], { lastAliveDay: 20 });
const second = hwidEntry('HWID-B', [licenseRecord({ licenseId: 2, hwid: 'HWID-B', issuedDay: 10 })]);

describe('duplicate-name rule', () => {
  it('fires, benign, when two live HWIDs share the name', () => {
    const derived = deriveDuplicateName({ name: nameFacts([first, second], 21) });
    expect(derived).not.toBeNull();
    expect(derived!.severity).toBe('info');
    expect(derived!.candidates).toEqual([]);
    expect(derived!.hwids).toEqual(['HWID-A', 'HWID-B']);
  });

  it('does not fire when the older HWID showed no life since the newer appeared', () => {
    const silent = hwidEntry('HWID-A', first.licenses);
    expect(deriveDuplicateName({ name: nameFacts([silent, second], 21) })).toBeNull();
  });

  it('stops holding once one device is left', () => {
    const facts = nameFacts([first, second], 65);
    expect(deriveDuplicateName({ name: facts })).toBeNull();
    expect(resolveDuplicateName({ name: facts }).note).toBe('resolved: one live device left');
  });
});
