import { readFileSync } from 'node:fs';
import { createKafkaClient } from '@calwatch/kafka';
import { CALWATCH_VERSION, createLogger, createReadiness, runUntilSignal, type Env } from '@calwatch/runtime';
import { loadProcessorConfig, resolveDetectionConfig } from './config';
import { createProcessorService } from './processor-service';

/** `calwatch processor`: wiring only. Returns the process exit code. */
export async function runProcessor(io: { env: Env; signal: AbortSignal }): Promise<number> {
  const config = loadProcessorConfig(io.env);
  const detection = resolveDetectionConfig(config.detectionConfig, (path) => readFileSync(path, 'utf8'));
  const logger = createLogger({ service: 'processor', version: CALWATCH_VERSION, level: config.logLevel });
  // The Kafka client reports outages it rides out; the service's /readyz answers from the same.
  const readiness = createReadiness();
  const kafka = createKafkaClient({ connection: config.kafka, logger: logger.child({ component: 'kafka' }), readiness });
  // The consumer failing for good ends the run like a signal does, with exit code 1.
  const shutdown = new AbortController();
  let fatal = false;
  io.signal.addEventListener('abort', () => shutdown.abort(), { once: true });
  const service = createProcessorService({
    config,
    detection,
    logger,
    kafka,
    readiness,
    onFatal: () => {
      fatal = true;
      shutdown.abort();
    },
  });
  const code = await runUntilSignal([service], { logger, signal: shutdown.signal, graceMs: config.shutdownGraceMs });
  return fatal ? 1 : code;
}
