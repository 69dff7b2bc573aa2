import { describe, expect, it } from 'vitest';
import { createSilentLogger, type IncomingRecord } from '@calwatch/shared';
import { createMemoryPublisher } from './memory-publisher';
import { emptyServerState, type CollectorServerState } from './server-state';
import { createSnapshotCoordinator } from './snapshot-coordinator';
import { applyStateRecords } from './state-restore';
import { screenEvents } from './event-screen';

function record(key: string | null, value: unknown, offset: number): IncomingRecord {
  return {
    topic: 't',
    partition: 0,
    offset: String(offset),
    key,
    value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: {},
    timestamp: '0',
  };
}

describe('applyStateRecords', () => {
  it('keeps the last valid state per server, forgets on tombstones, skips what does not decode', () => {
    const coordinator = createSnapshotCoordinator({ publisher: createMemoryPublisher(), screen: (e, ref) => screenEvents(e, ref, '2024-01-01T00:00:00.000Z') });
    const older: CollectorServerState = { ...emptyServerState('LS01'), keyPacksTakenAt: '2024-06-01T00:00:00.000Z' };
    const newer: CollectorServerState = { ...emptyServerState('LS01'), keyPacksTakenAt: '2024-06-02T00:00:00.000Z' };
    const invalid = applyStateRecords(
      [
        record('LS01', older, 0),
        record('LS02', emptyServerState('LS02'), 1),
        record('LS01', newer, 2),
        record('LS02', null, 3),
        record('LS03', '{not json', 4),
        record('LS04', { schemaVersion: 2 }, 5),
        record('LS05', emptyServerState('OTHER'), 6),
        record(null, emptyServerState('LS06'), 7),
      ],
      coordinator,
      createSilentLogger(),
    );
    expect(invalid).toBe(3);
    expect(coordinator.stateOf('LS01')).toEqual(newer);
    expect(coordinator.stateOf('LS02')).toBeUndefined();
    expect(coordinator.servers).toBe(1);
  });
});
