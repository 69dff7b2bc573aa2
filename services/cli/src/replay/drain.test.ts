import { describe, expect, it } from 'vitest';
import { type KafkaClient } from '@calwatch/kafka';
import { SHARED_ERRORS } from '@calwatch/model';
import { lagOf, waitUntilDrained } from './drain';

describe('lagOf', () => {
  it('sums what each partition has beyond its committed offset', () => {
    const ends = [
      { partition: 0, offset: '10' },
      { partition: 1, offset: '5' },
      { partition: 2, offset: '0' },
    ];
    expect(lagOf(ends, [{ partition: 0, offset: '10' }, { partition: 1, offset: '2' }, { partition: 2, offset: '-1' }])).toBe(3);
  });

  it('counts a partition without a commit from its start', () => {
    expect(lagOf([{ partition: 0, offset: '7' }], [{ partition: 0, offset: '-1' }])).toBe(7);
    expect(lagOf([{ partition: 0, offset: '7' }], [])).toBe(7);
  });
});

describe('waitUntilDrained', () => {
  it('rides out offset reads failing during a broker outage', async () => {
    let failures = 2;
    const admin = {
      endOffsets: async (topic: string) => [{ topic, partition: 0, offset: '3' }],
      committedOffsets: async (_group: string, topic: string) => [{ topic, partition: 0, offset: '3' }],
      close: async () => undefined,
    };
    const kafka = {
      async createAdmin() {
        if (failures > 0) {
          failures--;
          throw SHARED_ERRORS.create('SHARED_KAFKA_UNAVAILABLE', 'connect admin: Broker not connected');
        }
        return admin;
      },
    } as unknown as KafkaClient;
    const told: unknown[] = [];
    const drained = await waitUntilDrained({ kafka, targets: [{ groupId: 'g', topics: ['t'] }], quietMs: 0, timeoutMs: 60_000, pollMs: 1, onReadFailed: (e) => told.push(e) });
    expect(drained).toBe(true);
    expect(told).toHaveLength(2);
  });

  it('does not wait out a failure that will not pass', async () => {
    const kafka = {
      createAdmin: async () => {
        throw SHARED_ERRORS.create('SHARED_KAFKA_REQUEST_FAILED', 'not authorised');
      },
    } as unknown as KafkaClient;
    await expect(waitUntilDrained({ kafka, targets: [{ groupId: 'g', topics: ['t'] }], quietMs: 0, timeoutMs: 60_000, pollMs: 1 })).rejects.toMatchObject({
      code: 'SHARED_KAFKA_REQUEST_FAILED',
    });
  });
});
