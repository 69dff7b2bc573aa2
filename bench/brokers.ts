import { z } from 'zod';
import { loadStackSettings, readStackInfo } from '@calwatch/stack';
import { kafkaEnvShape, loadConfig, type KafkaConnection } from '@calwatch/runtime';

/** The Kafka brokers a benchmark runs against: KAFKA_BROKERS, else the local stack's. */
export async function benchBrokers(): Promise<string[]> {
  const fromEnv = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter((b) => b !== '');
  if (fromEnv !== undefined && fromEnv.length > 0) return fromEnv;
  const info = await readStackInfo({ settings: loadStackSettings(process.env) });
  if (info === undefined) throw new Error('no KAFKA_BROKERS and no local stack; run `calwatch stack up`');
  return info.kafka.brokers;
}

/**
 * The Kafka client library and codec a benchmark's calwatch clients use: KAFKA_CLIENT and
 * KAFKA_COMPRESSION as the services read them (platformatic and none by default), so
 * `KAFKA_CLIENT=kafkajs npm run bench -- processor` measures the other producer and reader.
 */
export function benchKafkaClientSettings(): Pick<KafkaConnection, 'client' | 'compression'> {
  const config = loadConfig(z.object({ KAFKA_CLIENT: kafkaEnvShape.KAFKA_CLIENT, KAFKA_COMPRESSION: kafkaEnvShape.KAFKA_COMPRESSION }), process.env);
  return { client: config.KAFKA_CLIENT, compression: config.KAFKA_COMPRESSION };
}
