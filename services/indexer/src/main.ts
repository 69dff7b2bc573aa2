import { createElasticsearchClient } from '@calwatch/elasticsearch';
import { createKafkaClient } from '@calwatch/kafka';
import { CALWATCH_VERSION, createLogger, createReadiness, runUntilSignal, type Env } from '@calwatch/runtime';
import { loadIndexerConfig } from './config';
import { createIndexerService } from './indexer-service';

/** `calwatch indexer`: wiring only. Returns the process exit code. */
export async function runIndexer(io: { env: Env; signal: AbortSignal }): Promise<number> {
  const config = loadIndexerConfig(io.env);
  const logger = createLogger({ service: 'indexer', version: CALWATCH_VERSION, level: config.logLevel });
  // The Kafka client reports outages it rides out; the service's /readyz answers from the same.
  const readiness = createReadiness();
  const kafka = createKafkaClient({ connection: config.kafka, logger, readiness });
  const elasticsearch = createElasticsearchClient({
    connection: config.elasticsearch,
    requestTimeoutMs: config.requestTimeoutMs,
  });
  // The consumer failing for good ends the run like a signal does, with exit code 1.
  const shutdown = new AbortController();
  let fatal = false;
  io.signal.addEventListener('abort', () => shutdown.abort(), { once: true });
  const service = createIndexerService({
    config,
    logger,
    kafka,
    elasticsearch,
    readiness,
    onFatal: () => {
      fatal = true;
      shutdown.abort();
    },
  });
  try {
    const code = await runUntilSignal([service], { logger, signal: shutdown.signal, graceMs: config.shutdownGraceMs });
    return fatal ? 1 : code;
  } finally {
    await elasticsearch.close();
  }
}
