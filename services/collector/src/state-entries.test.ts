import { describe, expect, it } from 'vitest';
import { type LicenseFact } from '@calwatch/model';
import { buildLicenseFact } from './testing/export-fixtures';
import { emptyServerState, type CollectorServerState } from './server-state';
import { buildHeadKey, buildLicenseKey, buildStateWrite, decodeStateKey, storedAfterFailedWrite, storedEntriesOf } from './state-entries';

const license = buildLicenseFact;

function state(takenAt: string, licenses: LicenseFact[]): CollectorServerState {
  return { ...emptyServerState('LS01'), issued: { licenseServer: 'LS01', takenAt, licenses: Object.fromEntries(licenses.map((l) => [String(l.licenseId), l])) } };
}

describe('state entry keys', () => {
  it('encode head and license entries as JSON arrays and decode them back, whatever the server name holds', () => {
    for (const server of ['LS01', 'A\u0000B', '["X"]', 'LS,"1"']) {
      expect(decodeStateKey(buildHeadKey(server))).toEqual({ kind: 'head', licenseServer: server });
      expect(decodeStateKey(buildLicenseKey(server, '1234'))).toEqual({ kind: 'license', licenseServer: server, licenseId: '1234' });
    }
    // A head of one server never equals a license entry of another.
    expect(buildHeadKey('A\u00001')).not.toBe(buildLicenseKey('A', '1'));
    expect(buildLicenseKey('LS01', '1234')).toBe('["LS01","1234"]');
  });

  it('reads any other key as an older version\'s whole-state record keyed by server name', () => {
    expect(decodeStateKey('LS01')).toEqual({ kind: 'legacy', licenseServer: 'LS01' });
    expect(decodeStateKey('[broken')).toEqual({ kind: 'legacy', licenseServer: '[broken' });
    expect(decodeStateKey('["LS01","x"]')).toEqual({ kind: 'legacy', licenseServer: '["LS01","x"]' });
    expect(decodeStateKey('[""]')).toEqual({ kind: 'legacy', licenseServer: '[""]' });
  });
});

describe('buildStateWrite', () => {
  it('puts changed and new licenses, deletes gone ones, in licenseId order, and always the head', () => {
    const before = state('2024-06-01T00:00:00.000Z', [license(1), license(2), license(10)]);
    const after = state('2024-06-02T00:00:00.000Z', [structuredClone(license(1)), license(10, { status: 'revoked' }), license(3)]);
    const write = buildStateWrite(storedEntriesOf(before), after);
    expect(write.licenses.map((e) => [e.licenseId, e.fact?.status ?? null])).toEqual([
      ['2', null],
      ['3', 'active'],
      ['10', 'revoked'],
    ]);
    expect(write.head).toEqual({ schemaVersion: 2, licenseServer: 'LS01', issuedTakenAt: '2024-06-02T00:00:00.000Z', keyPacksTakenAt: null });
    expect(write.dropLegacy).toBe(false);
  });

  it('writes everything when nothing is stored, and unknown entries again', () => {
    const after = state('2024-06-02T00:00:00.000Z', [license(1), license(2)]);
    expect(buildStateWrite(undefined, after).licenses.length).toBe(2);
    const failed = storedAfterFailedWrite(storedEntriesOf(after), { licenseServer: 'LS01', licenses: [{ licenseId: '2', fact: null }, { licenseId: '7', fact: license(7) }], head: buildStateWrite(undefined, after).head, dropLegacy: false });
    expect(buildStateWrite(failed, after).licenses.map((e) => [e.licenseId, e.fact?.licenseId ?? null])).toEqual([
      ['2', 2],
      ['7', null],
    ]);
  });
});
