import { describe, expect, it } from 'vitest';
import { SnapshotTimeBoundsBuilder, chooseSnapshotTime, snapshotTimeFromName } from './snapshot-time';

const ms = (iso: string) => Date.parse(iso);

function boundsOf(rows: Array<[Parameters<SnapshotTimeBoundsBuilder['add']>[0], string, string | null]>) {
  const builder = new SnapshotTimeBoundsBuilder();
  for (const [status, issued, expires] of rows) builder.add(status, ms(issued), expires === null ? null : ms(expires));
  return builder.bounds();
}

const export14DaysOld = boundsOf([
  ['active', '2024-05-01T00:00:00.000Z', '2024-06-20T00:00:00.000Z'],
  ['temporary', '2024-05-30T00:00:00.000Z', '2024-08-28T00:00:00.000Z'],
  // Ended licenses are listed with expiries in the past: they bound nothing.
  ['revoked', '2024-03-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z'],
  ['active', '2024-05-20T00:00:00.000Z', null],
]);

describe('snapshot time bounds', () => {
  it('are the newest issue date and the earliest expiry of a live license', () => {
    expect(export14DaysOld).toEqual({ notBeforeMs: ms('2024-05-30T00:00:00.000Z'), notAfterMs: ms('2024-06-20T00:00:00.000Z') });
    expect(boundsOf([])).toEqual({ notBeforeMs: null, notAfterMs: null });
  });

  it('keep an mtime inside them as it is', () => {
    const chosen = chooseSnapshotTime({ guessMs: ms('2024-06-01T00:00:00.000Z'), guessFrom: 'mtime', bounds: export14DaysOld, display: 'a.csv' });
    expect(chosen).toEqual({ time: '2024-06-01T00:00:00.000Z', from: 'mtime', warning: null });
  });

  it('bring a copy\'s later mtime back to the earliest expiry, and say so', () => {
    const chosen = chooseSnapshotTime({ guessMs: ms('2024-07-15T00:00:00.000Z'), guessFrom: 'mtime', bounds: export14DaysOld, display: 'copy.csv' });
    expect(chosen.time).toBe('2024-06-20T00:00:00.000Z');
    expect(chosen.from).toBe('data');
    expect(chosen.warning).toContain('copy.csv');
    expect(chosen.warning).toContain('2024-07-15T00:00:00.000Z');
    expect(chosen.warning).toContain('earliest expiry');
  });

  it('bring an earlier mtime up to the newest issue date, and say so', () => {
    const chosen = chooseSnapshotTime({ guessMs: ms('2024-05-10T00:00:00.000Z'), guessFrom: 'mtime', bounds: export14DaysOld, display: 'a.csv' });
    expect(chosen.time).toBe('2024-05-30T00:00:00.000Z');
    expect(chosen.from).toBe('data');
    expect(chosen.warning).toContain('newest issue date');
  });

  it('let the newest issue date win over contradictory bounds', () => {
    const bounds = { notBeforeMs: ms('2024-06-10T00:00:00.000Z'), notAfterMs: ms('2024-06-01T00:00:00.000Z') };
    expect(chooseSnapshotTime({ guessMs: ms('2024-07-01T00:00:00.000Z'), guessFrom: 'mtime', bounds, display: 'a.csv' }).time).toBe('2024-06-10T00:00:00.000Z');
  });

  it('never override a time that was given or is in the file name', () => {
    const given = { time: '2024-07-15T00:00:00.000Z', from: 'name' as const };
    expect(chooseSnapshotTime({ given, guessMs: 0, guessFrom: 'mtime', bounds: export14DaysOld, display: 'a.csv' })).toEqual({ ...given, warning: null });
  });

  it('reads time stamps in file names', () => {
    expect(snapshotTimeFromName('issued-20240612T093000Z.csv')).toBe('2024-06-12T09:30:00.000Z');
    expect(snapshotTimeFromName('licenses.csv')).toBeUndefined();
  });
});
