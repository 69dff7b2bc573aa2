import type { IncomingRecord, KafkaClient } from '@calwatch/kafka';

/** Every partition of `topic` from its start to its current end, outside any consumer group. */
export async function readWholeTopic(kafka: KafkaClient, topic: string, onBatch: (records: readonly IncomingRecord[]) => void): Promise<void> {
  const admin = await kafka.createAdmin();
  let partitions: number;
  try {
    partitions = await admin.partitionCount(topic);
  } finally {
    await admin.close();
  }
  await kafka.createPartitionReader().readToEnd(
    topic,
    Array.from({ length: partitions }, (_, p) => p),
    onBatch,
  );
}
