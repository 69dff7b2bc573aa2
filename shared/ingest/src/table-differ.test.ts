import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LICENSE_STATUS_BY_CODE, type LicenseFact } from '@calwatch/model';
import { LicenseTable } from './license-table';
import { diffSnapshot, type Snapshot } from './snapshot-differ';
import { diffTables, type TableSnapshot } from './table-differ';

const source = { kind: 'wmi-issued-licenses' as const, ref: 'test' };
const DAY = 86_400_000;
const BASE = Date.UTC(2024, 3, 1);
const iso = (ms: number) => new Date(ms).toISOString();

/** Licenses with few ids, HWIDs, dates and statuses, so that diffs hit every transition. */
const licenseArb = fc
  .record({
    licenseId: fc.integer({ min: 1, max: 12 }),
    keyPackId: fc.integer({ min: 0, max: 4 }),
    hwid: fc.constantFrom('0x0A-0x0B', '0A0B', '{ff 01}', 'Ünïcode-0c'),
    computer: fc.constantFrom('pc01.corp', 'PC01', 'vdi-7', 'Straße'),
    user: fc.option(fc.constantFrom('CORP\\u1', 'ü', ''), { nil: null }),
    issueDay: fc.integer({ min: 0, max: 3 }),
    expiryDay: fc.option(fc.integer({ min: 40, max: 120 }), { nil: null }),
    status: fc.constantFrom(...LICENSE_STATUS_BY_CODE),
  })
  .map(
    (l): LicenseFact => ({
      licenseId: l.licenseId,
      keyPackId: l.keyPackId,
      hwid: { raw: l.hwid, norm: l.hwid.toLowerCase().replace(/[^0-9a-f]/g, '') || '0' },
      computer: { raw: l.computer, norm: l.computer.split('.')[0]!.toUpperCase() },
      user: l.user,
      issueDate: iso(BASE + l.issueDay * DAY),
      expirationDate: l.expiryDay === null ? null : iso(BASE + l.expiryDay * DAY),
      status: l.status,
    }),
  );

function tableOf(licenses: LicenseFact[], takenAt: string): TableSnapshot {
  const table = new LicenseTable();
  for (const license of licenses) table.add(license);
  return { licenseServer: 'LS01', takenAt, table, source };
}

const snapshotOf = (licenses: LicenseFact[], takenAt: string): Snapshot => ({ licenseServer: 'LS01', takenAt, licenses, source });

function eventsOf(diff: ReturnType<typeof diffTables>) {
  return Array.from({ length: diff.events.size }, (_, k) => diff.events.event(k));
}

describe('LicenseTable', () => {
  it('gives back the facts it was given, texts in any script', () => {
    fc.assert(
      fc.property(fc.array(licenseArb, { maxLength: 30 }), (licenses) => {
        const { table } = tableOf(licenses, iso(BASE));
        expect(Array.from({ length: table.size }, (_, row) => table.fact(row))).toEqual(licenses);
      }),
    );
  });

  it('grows past its first allocation', () => {
    const licenses = Array.from({ length: 3000 }, (_, i): LicenseFact => ({
      licenseId: i,
      keyPackId: 2,
      hwid: { raw: `0x${i.toString(16)}-${'ab'.repeat(30)}`, norm: `${i.toString(16)}${'ab'.repeat(30)}` },
      computer: { raw: `PC-${i}`, norm: `PC-${i}` },
      user: `CORP\\user${i}`,
      issueDate: iso(BASE + i * 1000),
      expirationDate: iso(BASE + 60 * DAY),
      status: 'active',
    }));
    const { table } = tableOf(licenses, iso(BASE));
    expect(table.size).toBe(3000);
    expect(table.fact(2999)).toEqual(licenses[2999]);
    expect(table.fact(0)).toEqual(licenses[0]);
    table.trim();
    expect(table.fact(2999)).toEqual(licenses[2999]);
    table.add(licenses[5]!);
    expect(table.fact(3000)).toEqual(licenses[5]);
    expect(table.fact(1234)).toEqual(licenses[1234]);
    new LicenseTable().trim();
  });
});

describe('diffTables', () => {
  it('emits exactly what diffSnapshot emits, for first and successive snapshots', () => {
    fc.assert(
      fc.property(
        fc.array(licenseArb, { maxLength: 20 }),
        fc.array(licenseArb, { maxLength: 20 }),
        fc.integer({ min: 0, max: 150 }),
        (first, second, gapDays) => {
          const t1 = iso(BASE + 5 * DAY);
          const t2 = iso(BASE + (5 + gapDays) * DAY);
          const before = diffSnapshot(undefined, snapshotOf(first, t1));
          const tableBefore = tableOf(first, t1);
          const compactBefore = diffTables(undefined, tableBefore);
          expect(compactBefore.stale).toBe(false);
          expect(eventsOf(compactBefore)).toEqual(before.events);

          const after = diffSnapshot(before.state, snapshotOf(second, t2));
          const compactAfter = diffTables(tableBefore, tableOf(second, t2));
          expect(compactAfter.stale).toBe(after.stale);
          expect(eventsOf(compactAfter)).toEqual(after.events);
          for (let k = 0; k < compactAfter.events.size; k++) {
            expect(compactAfter.events.timeMs(k)).toBe(Date.parse(after.events[k]!.eventTime));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a snapshot of another server', () => {
    const previous = tableOf([], iso(BASE));
    expect(() => diffTables(previous, { ...tableOf([], iso(BASE + DAY)), licenseServer: 'LS02' })).toThrow(/cannot diff/);
  });
});
