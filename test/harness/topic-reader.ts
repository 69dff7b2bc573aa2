import type { IncomingRecord, KafkaClient } from '@calwatch/kafka';

/** Every record of a topic up to its current end (a fresh reader outside any group). */
export async function readTopicToEnd(kafka: KafkaClient, topic: string, partitions: number): Promise<IncomingRecord[]> {
  const records: IncomingRecord[] = [];
  await kafka.createPartitionReader().readToEnd(topic, Array.from({ length: partitions }, (_, p) => p), (batch) => {
    records.push(...batch);
  });
  return records;
}
