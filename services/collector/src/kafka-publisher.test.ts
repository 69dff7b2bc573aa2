import { describe, expect, it } from 'vitest';
import { recordSizeBytes, type OutgoingRecord, type Producer } from '@calwatch/kafka';
import { buildTopicNames } from '@calwatch/model';
import { buildLicenseFact } from './testing/export-fixtures';
import { createKafkaPublisher } from './kafka-publisher';
import { emptyServerState } from './server-state';
import { buildStateWrite } from './state-entries';

const license = (id: number) => buildLicenseFact(id, { user: `CORP\\user${id}` });

/** A Producer that keeps each send; `failOn` makes that send (0-based) throw. */
function recordingProducer(failOn?: number): Producer & { sends: OutgoingRecord[][] } {
  const sends: OutgoingRecord[][] = [];
  return {
    sends,
    async send(records) {
      if (sends.length === failOn) throw Object.assign(new Error('broker gone'), { retriable: true });
      sends.push([...records]);
    },
    async close() {},
  };
}

describe('kafka publisher state writes', () => {
  const licenses = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [String(i + 1), license(i + 1)]));
  const state = { ...emptyServerState('LS01'), issued: { licenseServer: 'LS01', takenAt: '2024-06-01T00:00:00.000Z', licenses } };

  it('sends the license entries in bounded sends, then the head alone, then the old record\'s tombstone', async () => {
    const producer = recordingProducer();
    const publisher = createKafkaPublisher({ producer, topics: buildTopicNames('t.'), maxBatchRecords: 1_000, maxBatchBytes: 100_000 });
    await publisher.saveState(buildStateWrite({ licenses: {}, legacyRecord: true }, state));
    const sends = producer.sends;
    expect(sends.length).toBeGreaterThan(5_000 / 1_000);
    for (const send of sends) expect(send.reduce((n, r) => n + recordSizeBytes(r), 0)).toBeLessThanOrEqual(100_000);
    expect(sends.slice(0, -2).flat().length).toBe(5_000);
    expect(sends.at(-2)!.map((r) => r.key)).toEqual(['["LS01"]']);
    expect(sends.at(-1)!).toMatchObject([{ key: 'LS01', value: null }]);
  });

  it('does not write the head when an entry send fails', async () => {
    const producer = recordingProducer(2);
    const publisher = createKafkaPublisher({ producer, topics: buildTopicNames('t.'), maxBatchRecords: 1_000, maxBatchBytes: 100_000 });
    await expect(publisher.saveState(buildStateWrite(undefined, state))).rejects.toMatchObject({ code: 'COLLECTOR_KAFKA_UNAVAILABLE' });
    expect(producer.sends.flat().some((r) => r.key === '["LS01"]')).toBe(false);
  });
});
