import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createKeyPartitioner } from './platformatic-partitioner';

// kafkajs is CommonJS: take its names from the default export.
const { Partitioners } = kafkajs;

/** kafkajs's default (Java-compatible murmur2) partitioner: the partition calwatch's keys have always landed on. */
function kafkajsPartition(key: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  return Partitioners.DefaultPartitioner()({ topic: 't', partitionMetadata, message: { key, value: null } });
}

function keys(): string[] {
  const list: string[] = [];
  // License servers as collectors name them, JSON-array state keys, and arbitrary text.
  for (let i = 0; i < 2_000; i++) list.push(`LS${String(i).padStart(2, '0')}`, `lic-srv-${i}.corp.example`);
  for (let i = 0; i < 2_000; i++) list.push(JSON.stringify(['device', `LS${i % 17}`, randomBytes(8).toString('hex')]));
  for (let i = 0; i < 2_000; i++) list.push(randomBytes(1 + (i % 40)).toString('base64'), `ünïcødé-${i}-€`);
  list.push('', ' ', 'a');
  return list;
}

describe('the @platformatic/kafka producer partitioner', () => {
  it('puts every key on the partition kafkajs (and Java) put it on', () => {
    const partitioner = createKeyPartitioner();
    const all = keys();
    for (const partitions of [1, 2, 3, 6, 12, 50]) {
      const differing = all.filter((key) => {
        // The library takes the partitioner's number modulo the partition count.
        const chosen = partitioner({ topic: 't' }, Buffer.from(key, 'utf8')) % partitions;
        return chosen !== kafkajsPartition(key, partitions);
      });
      expect(differing, `${partitions} partitions`).toEqual([]);
    }
  });

  it('spreads keyless records over the partitions', () => {
    const partitioner = createKeyPartitioner();
    const chosen = new Set(Array.from({ length: 6 }, () => partitioner({ topic: 't' }, undefined) % 6));
    expect(chosen.size).toBe(6);
  });
});
