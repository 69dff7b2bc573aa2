import type { LicenseRecord } from '../license-record';
import { DAY_MS } from '../time';

/** Day offsets from a fixed start, as the rule tests count time. */
export const day = (n: number): number => Date.parse('2024-01-01T00:00:00.000Z') + n * DAY_MS;

/** A license record for hand-made rule views: a permanent CAL valid 60 days from its issue day. */
export function licenseRecord(o: { licenseId: number; hwid?: string; computer?: string; issuedDay: number; validDays?: number; status?: LicenseRecord['status']; keyPackId?: number }): LicenseRecord {
  const issuedAt = day(o.issuedDay);
  return {
    server: 'LS01',
    licenseId: o.licenseId,
    keyPackId: o.keyPackId ?? 1,
    hwid: o.hwid ?? 'HWID-A',
    computer: o.computer ?? 'pc1',
    status: o.status ?? 'active',
    issuedAt,
    expiresAt: day(o.issuedDay + (o.validDays ?? 60)),
    renewals: 0,
    aliveAt: issuedAt,
    endedAt: null,
    endReason: null,
    updatedAt: issuedAt,
    eventId: `issued:${o.licenseId}`,
  };
}
