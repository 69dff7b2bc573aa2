import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LICENSE_STATUS_BY_CODE, type LicenseFact, normalizeComputer, normalizeHwid } from '@calwatch/model';
import { ColumnBlock } from './column-block';
import { LicenseTable } from './license-table';

const hex8 = fc.stringMatching(/^[0-9a-f]{8}$/);
/** HWIDs as exports show them: PowerShell's rendering (stored as its normal form alone) and others. */
const hwidArb = fc.oneof(
  fc.array(hex8, { minLength: 5, maxLength: 5 }).map((groups) => groups.map((g) => `0x${g}`).join('-')),
  fc.array(hex8, { minLength: 5, maxLength: 5 }).map((groups) => groups.map((g) => `0X${g.toUpperCase()}`).join('-')),
  fc.array(hex8, { minLength: 4, maxLength: 6 }).map((groups) => groups.map((g) => `0x${g}`).join('-')),
  fc.array(hex8, { minLength: 5, maxLength: 5 }).map((groups) => `{${groups.join(' ')}}`),
  fc.constantFrom('0x0a-0x0b', 'Ünïcode-0c'),
);
const computerArb = fc.constantFrom('PC-000001', 'pc01.corp.example', 'PC01', 'Straße', 'KASSE-ÄRGER', '\\\\VDI-7');

const factArb = fc
  .record({
    licenseId: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
    keyPackId: fc.integer({ min: 0, max: 9 }),
    hwid: hwidArb,
    computer: computerArb,
    user: fc.option(fc.constantFrom('CONTOSO\\u1', 'ü', ''), { nil: null }),
    issued: fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }).map((ms) => ms - (ms % 1000)),
    expires: fc.option(fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }).map((ms) => ms - (ms % 1000)), { nil: null }),
    status: fc.constantFrom(...LICENSE_STATUS_BY_CODE),
  })
  .map(
    (l): LicenseFact => ({
      licenseId: l.licenseId,
      keyPackId: l.keyPackId,
      hwid: { raw: l.hwid, norm: normalizeHwid(l.hwid) ?? '0' },
      computer: { raw: l.computer, norm: normalizeComputer(l.computer) },
      user: l.user,
      issueDate: new Date(l.issued).toISOString(),
      expirationDate: l.expires === null ? null : new Date(l.expires).toISOString(),
      status: l.status,
    }),
  );

describe('the license table', () => {
  it('gives back every fact as it was added, after a trim and through a copied row', () => {
    fc.assert(
      fc.property(fc.array(factArb, { minLength: 1, maxLength: 40 }), (facts) => {
        const table = new LicenseTable();
        const rows = facts.map((fact) => table.add(fact));
        table.trim();
        expect(rows.map((row) => table.fact(row))).toStrictEqual(facts);
        const copy = new LicenseTable();
        const copied = [...rows].reverse().map((row) => copy.copyRow(table, row));
        expect(copied.map((row) => copy.fact(row))).toStrictEqual([...facts].reverse());
        expect(rows.every((row) => table.sameHwid(row, copy, copied[facts.length - 1 - row]!))).toBe(true);
        // Made for exactly these rows in one block: nothing grows, and the block is full.
        const textBytes = rows.reduce((sum, row) => sum + table.rowTextBytes(row), 0);
        expect(textBytes).toBe(table.textBytes);
        const block = new ColumnBlock(ColumnBlock.bytesFor(LicenseTable.columnsFor(rows.length, textBytes)));
        const sized = new LicenseTable({ rows: rows.length, textBytes, block });
        expect(rows.map((row) => sized.fact(sized.copyRow(table, row)))).toStrictEqual(facts);
        expect(() => block.u8(1)).toThrow(RangeError);
      }),
      { numRuns: 200 },
    );
  });

  it('stores a HWID as PowerShell renders it and a name in its normal form once', () => {
    const fact = (hwid: string, computer: string): LicenseFact => ({
      licenseId: 1,
      keyPackId: 2,
      hwid: { raw: hwid, norm: normalizeHwid(hwid)! },
      computer: { raw: computer, norm: normalizeComputer(computer) },
      user: null,
      issueDate: '2026-05-13T07:49:23.000Z',
      expirationDate: null,
      status: 'active',
    });
    const rendered = new LicenseTable();
    rendered.add(fact('0x032d333d-0xed373dd4-0xe8c60997-0x38f25138-0x6847f22c', 'PC-000001'));
    const other = new LicenseTable();
    other.add(fact('0X032D333D-0XED373DD4-0XE8C60997-0X38F25138-0X6847F22C', 'pc-000001'));
    // 40 normal hex digits and the name once, against 54 + 40 and the name twice.
    expect(rendered.textBytes).toBe(40 + 9);
    expect(other.textBytes).toBe(54 + 40 + 9 + 9);
  });
});
