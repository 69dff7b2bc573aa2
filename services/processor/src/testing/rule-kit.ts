import { uniqueSorted } from '../core/chain';
import { NO_DROPPED_CALS } from '../core/dropped-cals';
import type { HwidEntry } from '../core/hwid-entry';
import type { LicenseRecord } from '../core/license-record';
import type { NameFacts } from '../core/rules/name-view';
import { DAY_MS } from '../core/time';

/** Day offsets from a fixed start, as the rule tests count time. */
export const day = (n: number): number => Date.parse('2024-01-01T00:00:00.000Z') + n * DAY_MS;

/** A license record for hand-made rule views: a permanent CAL valid 60 days from its issue day. */
export function licenseRecord(o: { licenseId: number; hwid?: string; computer?: string; issuedDay: number; validDays?: number; status?: LicenseRecord['status']; keyPackId?: number }): LicenseRecord {
  return licenseRecordAt(o.licenseId, day(o.issuedDay), {
    keyPackId: o.keyPackId ?? 1,
    hwid: o.hwid ?? 'HWID-A',
    computer: o.computer ?? 'pc1',
    status: o.status ?? 'active',
    expiresAt: day(o.issuedDay + (o.validDays ?? 60)),
  });
}

/** A license issued at `issuedAt` (epoch ms) on LS01, valid 60 days, any field overridden. */
export function licenseRecordAt(licenseId: number, issuedAt: number, o: Partial<LicenseRecord> = {}): LicenseRecord {
  return {
    server: 'LS01',
    licenseId,
    keyPackId: 1,
    hwid: 'HWID-A',
    computer: 'pc1',
    status: 'active',
    issuedAt,
    expiresAt: issuedAt + 60 * DAY_MS,
    renewals: 0,
    aliveAt: issuedAt,
    endedAt: null,
    endReason: null,
    updatedAt: issuedAt,
    eventId: `issued:${licenseId}`,
    ...o,
  };
}

/** One HWID of a name, its firstSeen and lastAliveAt taken from its licenses. */
export function hwidEntry(hwid: string, licenses: LicenseRecord[], o: { lastAliveDay?: number } = {}): HwidEntry {
  return {
    hwid,
    firstSeen: Math.min(...licenses.map((r) => r.issuedAt)),
    lastAliveAt: o.lastAliveDay !== undefined ? day(o.lastAliveDay) : Math.max(...licenses.map((r) => r.aliveAt)),
    licenses,
  };
}

/** The facts by-computer would build for the name `pc1` on LS01 at `clockDay`. */
export function nameFacts(hwids: HwidEntry[], clockDay: number): NameFacts {
  const clock = day(clockDay);
  const sorted = [...hwids].sort((a, b) => a.firstSeen - b.firstSeen || (a.hwid < b.hwid ? -1 : 1));
  const licenses = sorted.flatMap((h) => h.licenses);
  return {
    server: 'LS01',
    computer: 'pc1',
    name: 'PC1',
    clock,
    hwids: sorted,
    licenses,
    newest: sorted.length > 0 ? Math.max(...sorted.map((h) => h.firstSeen)) : clock,
    lastSeen: licenses.length > 0 ? Math.max(...licenses.map((r) => r.updatedAt)) : clock,
    licenseIds: uniqueSorted(licenses.map((r) => r.licenseId)),
    keyPackIds: uniqueSorted(licenses.map((r) => r.keyPackId)),
    allHwids: uniqueSorted(sorted.map((h) => h.hwid)),
    dropped: NO_DROPPED_CALS,
    uncountedCals: 0,
  };
}
