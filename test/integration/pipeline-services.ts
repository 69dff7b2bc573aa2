import { createPipelineServices, type PipelineServices } from '@calwatch/cli';
import type { KafkaClient } from '@calwatch/kafka';
import { parseCoreConfig } from '@calwatch/processor';
import { createSilentLogger } from '@calwatch/runtime';

/**
 * Processor, indexer and notifier of one test namespace, started on `env`'s connections
 * (plain or TLS) with a quick idle flush, so a posted fleet reaches Elasticsearch in seconds.
 */
export async function startTestPipeline(env: Record<string, string>, name: string, kafka: KafkaClient): Promise<PipelineServices> {
  const pipeline = createPipelineServices({
    env: { ...env, PROCESSOR_IDLE_AFTER_MS: '1000', PROCESSOR_PUNCTUATE_INTERVAL_MS: '200', PROCESSOR_METRICS_PORT: '0' },
    kafka,
    logger: createSilentLogger(),
    topicPrefix: `${name}.`,
    indexPrefix: `${name}-`,
    groupPrefix: name,
    detection: parseCoreConfig({}),
    suspendRefresh: false,
  });
  await pipeline.start();
  return pipeline;
}
