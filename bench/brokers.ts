import { readStackInfo } from '@calwatch/stack';

/** The Kafka brokers a benchmark runs against: KAFKA_BROKERS, else the local stack's. */
export async function benchBrokers(): Promise<string[]> {
  const fromEnv = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter((b) => b !== '');
  if (fromEnv !== undefined && fromEnv.length > 0) return fromEnv;
  const info = await readStackInfo();
  if (info === undefined) throw new Error('no KAFKA_BROKERS and no local stack; run `calwatch stack up`');
  return info.kafka.brokers;
}
