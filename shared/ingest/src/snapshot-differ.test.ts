import { describe, expect, it } from 'vitest';
import { buildEventId, type CanonicalEvent, type LicenseFact } from '@calwatch/model';
import { SnapshotState, diffSnapshot, type Snapshot } from './snapshot-differ';

const source = { kind: 'wmi-issued-licenses' as const, ref: 'test' };

function license(id: number, overrides: Partial<LicenseFact> = {}): LicenseFact {
  return {
    licenseId: id,
    keyPackId: 3,
    hwid: { raw: `0x${id}`, norm: `0${id}` },
    computer: { raw: `PC-${id}`, norm: `PC-${id}` },
    user: null,
    issueDate: '2024-04-01T00:00:00.000Z',
    expirationDate: '2024-06-30T00:00:00.000Z',
    status: 'temporary',
    ...overrides,
  };
}

function snapshot(takenAt: string, licenses: LicenseFact[]): Snapshot {
  return { licenseServer: 'LS01', takenAt, licenses, source };
}

/** The parts of an event a test states exactly. */
function brief(event: CanonicalEvent) {
  if (!event.type.startsWith('license.')) return { type: event.type };
  const e = event as Extract<CanonicalEvent, { license: LicenseFact }>;
  return {
    type: e.type,
    licenseId: e.license.licenseId,
    eventTime: e.eventTime,
    ...('reason' in e ? { reason: e.reason } : {}),
    ...('previousStatus' in e ? { previousStatus: e.previousStatus } : {}),
    ...('previousExpirationDate' in e ? { previousExpirationDate: e.previousExpirationDate } : {}),
  };
}

describe('diffSnapshot', () => {
  const t1 = '2024-05-01T00:00:00.000Z';
  const t2 = '2024-05-02T00:00:00.000Z';
  const t3 = '2024-07-15T00:00:00.000Z';

  it('emits the whole history of a first snapshot as issued events at their issue dates', () => {
    const { events, state, stale } = diffSnapshot(undefined, snapshot(t1, [
      license(2, { status: 'revoked', issueDate: '2024-03-01T00:00:00.000Z' }),
      license(1, { status: 'active' }),
    ]));
    expect(stale).toBe(false);
    expect(events.map(brief)).toEqual([
      { type: 'license.issued', licenseId: 1, eventTime: '2024-04-01T00:00:00.000Z' },
      { type: 'license.issued', licenseId: 2, eventTime: '2024-03-01T00:00:00.000Z' },
    ]);
    const second = events[1]!;
    expect(second.type === 'license.issued' && second.license.status).toBe('revoked');
    expect(events.every((e) => e.licenseServer === 'LS01' && e.observedTime === t1 && e.source === source)).toBe(true);
    expect(events[0]!.eventId).toBe(buildEventId('license.issued', 'LS01', 1, '2024-04-01T00:00:00.000Z', '01'));
    expect(Object.keys(state.licenses)).toEqual(['1', '2']);
    expect(state.takenAt).toBe(t1);
  });

  it('emits renewed, upgraded, revoked and returned transitions', () => {
    const first = diffSnapshot(undefined, snapshot(t1, [
      license(1, { status: 'active' }),
      license(2),
      license(3, { status: 'active' }),
      license(4, { status: 'active', expirationDate: '2024-05-01T12:00:00.000Z' }),
      license(5, { status: 'revoked' }),
      license(6),
      license(7, { expirationDate: null }),
    ]));
    const { events, stale } = diffSnapshot(first.state, snapshot(t2, [
      license(1, { status: 'active', expirationDate: '2024-08-10T00:00:00.000Z' }),
      license(2, { status: 'active', expirationDate: '2024-06-20T00:00:00.000Z' }),
      license(3, { status: 'revoked' }),
      // 4 expired and left; 5 (revoked) left; 6 left before expiring; 7 unchanged
      license(7, { expirationDate: null }),
      license(8, { issueDate: '2024-05-01T10:00:00.000Z' }),
    ]));
    expect(stale).toBe(false);
    expect(events.map(brief)).toEqual([
      { type: 'license.renewed', licenseId: 1, eventTime: t2, previousExpirationDate: '2024-06-30T00:00:00.000Z' },
      { type: 'license.upgraded', licenseId: 2, eventTime: t2, previousStatus: 'temporary' },
      { type: 'license.revoked', licenseId: 3, eventTime: t2, previousStatus: 'active' },
      { type: 'license.returned', licenseId: 4, eventTime: '2024-05-01T12:00:00.000Z', reason: 'expired' },
      { type: 'license.returned', licenseId: 5, eventTime: t2, reason: 'released' },
      { type: 'license.returned', licenseId: 6, eventTime: t2, reason: 'unknown' },
      { type: 'license.issued', licenseId: 8, eventTime: '2024-05-01T10:00:00.000Z' },
    ]);
  });

  it('reads a licenseId reused for another device as returned + issued', () => {
    const first = diffSnapshot(undefined, snapshot(t1, [license(1, { status: 'active' })]));
    const reused = license(1, { hwid: { raw: 'ff', norm: 'ff' }, issueDate: '2024-07-01T00:00:00.000Z', expirationDate: '2024-09-01T00:00:00.000Z' });
    const { events } = diffSnapshot(first.state, snapshot(t3, [reused]));
    expect(events.map(brief)).toEqual([
      { type: 'license.returned', licenseId: 1, eventTime: '2024-06-30T00:00:00.000Z', reason: 'expired' },
      { type: 'license.issued', licenseId: 1, eventTime: '2024-07-01T00:00:00.000Z' },
    ]);
    const returned = events[0]!;
    expect(returned.type === 'license.returned' && returned.license.hwid.norm).toBe('01');
  });

  it('emits nothing for an unchanged snapshot, and nothing but stale for an old or repeated one', () => {
    const first = diffSnapshot(undefined, snapshot(t2, [license(1)]));
    const later = diffSnapshot(first.state, snapshot(t3.replace('07-15', '05-03'), [license(1)]));
    expect(later).toMatchObject({ events: [], stale: false });
    expect(later.state.takenAt).toBe('2024-05-03T00:00:00.000Z');

    for (const takenAt of [t1, later.state.takenAt]) {
      const old = diffSnapshot(later.state, snapshot(takenAt, [license(9)]));
      expect(old.stale).toBe(true);
      expect(old.events).toEqual([]);
      expect(old.state).toBe(later.state);
    }
  });

  it('survives a restart: state through JSON gives the same ids and emits nothing twice', () => {
    const s1 = snapshot(t1, [license(1), license(2, { status: 'active' })]);
    const s2 = snapshot(t2, [license(1, { status: 'active', expirationDate: '2024-08-01T00:00:00.000Z' })]);
    const a1 = diffSnapshot(undefined, s1);
    const a2 = diffSnapshot(a1.state, s2);

    const restored = SnapshotState.parse(JSON.parse(JSON.stringify(a1.state)));
    const b2 = diffSnapshot(restored, s2);
    expect(b2.events).toEqual(a2.events);
    expect(b2.events.map((e) => e.type)).toEqual(['license.upgraded', 'license.returned']);

    // The processor re-sends s2 after a crash before committing: nothing new.
    const again = diffSnapshot(SnapshotState.parse(JSON.parse(JSON.stringify(b2.state))), s2);
    expect(again).toMatchObject({ events: [], stale: true });
  });

  it('gives the same transition the same id whatever the snapshot time', () => {
    const base = diffSnapshot(undefined, snapshot(t1, [license(1, { status: 'active' })]));
    const renewed = license(1, { status: 'active', expirationDate: '2024-08-01T00:00:00.000Z' });
    const seenEarly = diffSnapshot(base.state, snapshot(t2, [renewed])).events[0]!;
    const seenLate = diffSnapshot(base.state, snapshot(t3, [renewed])).events[0]!;
    expect(seenEarly.eventId).toBe(seenLate.eventId);
    expect(seenEarly.eventTime).not.toBe(seenLate.eventTime);
  });

  it('refuses the state of another license server', () => {
    const other = diffSnapshot(undefined, { ...snapshot(t1, []), licenseServer: 'LS02' }).state;
    expect(() => diffSnapshot(other, snapshot(t2, []))).toThrow(expect.objectContaining({ code: 'INGEST_SNAPSHOT_SERVER_MISMATCH' }));
  });
});
