import { describe, expect, it } from 'vitest';
import type { LicenseLifecycleEvent } from '@calwatch/model';
import { parseCoreConfig } from './config';
import { type LicenseRecord, applyLicenseEvent, holdsCalAt, isValidAt } from './license-record';
import { createTimelineKit } from '../testing/timeline-kit';

const config = parseCoreConfig({});
const DAY = 86_400_000;

function fold(events: LicenseLifecycleEvent[]): LicenseRecord {
  let record: LicenseRecord | undefined;
  for (const event of events) record = applyLicenseEvent(record, event, config);
  return record!;
}

describe('applyLicenseEvent', () => {
  const kit = createTimelineKit();
  const t0 = Date.parse(kit.at(0));
  const issued = kit.issue(1, { hwid: 'ab', computer: 'PC-1', day: 0 }) as LicenseLifecycleEvent;
  const renewed = kit.renew(1, 55, 60) as LicenseLifecycleEvent;
  const revoked = kit.revoke(1, 70) as LicenseLifecycleEvent;

  it('tracks expiry, renewals and a lower bound of when the device was last alive', () => {
    const record = fold([issued, renewed]);
    expect(record.expiresAt).toBe(t0 + 115 * DAY);
    expect(record.renewals).toBe(1);
    // Renewed within 7 days of the old expiry (day 60): alive on day 53 at the latest bound.
    expect(record.aliveAt).toBe(t0 + 53 * DAY);
    expect(record.eventId).toBe(issued.eventId);
  });

  it('is idempotent and tolerates order', () => {
    const inOrder = fold([issued, renewed, revoked]);
    expect(fold([issued, renewed, renewed, revoked, revoked])).toEqual(inOrder);
    // Out of order, everything detection uses comes out the same (renewals counts only
    // those seen to move the expiry forward, so it may undercount).
    const { renewals: _r1, ...shuffled } = fold([revoked, issued, renewed]);
    const { renewals: _r2, ...expected } = inOrder;
    expect(shuffled).toEqual(expected);
    expect(inOrder.status).toBe('revoked');
    expect(inOrder.endedAt).toBe(t0 + 70 * DAY);
  });

  it('derives liveness from a span longer than one permanent period', () => {
    const old = createTimelineKit().issue(2, { hwid: 'cd', computer: 'PC-2', day: -150, validDays: 180 }) as LicenseLifecycleEvent;
    // Expires on day 30: renewed at the latest 89 days before, so alive on day -59 at least.
    expect(fold([old]).aliveAt).toBe(t0 - 59 * DAY);
  });

  it('counts only valid permanent CALs as held', () => {
    const record = fold([issued]);
    expect(holdsCalAt(record, t0 + 10 * DAY)).toBe(true);
    expect(isValidAt(record, t0 + 60 * DAY)).toBe(false);
    const temporary = fold([createTimelineKit().issue(3, { hwid: 'ef', computer: 'PC-3', day: 0, status: 'temporary' }) as LicenseLifecycleEvent]);
    expect(isValidAt(temporary, t0 + 10 * DAY)).toBe(true);
    expect(holdsCalAt(temporary, t0 + 10 * DAY)).toBe(false);
    expect(holdsCalAt(fold([issued, revoked]), t0 + 71 * DAY)).toBe(false);
  });
});
