import { createKafkaClient } from '@calwatch/kafka';
import { CALWATCH_VERSION, createLogger, runUntilSignal, type Env } from '@calwatch/runtime';
import { createCollectorService } from './collector-service';
import { loadCollectorConfig, type CollectorConfig } from './config';

export interface CollectorIo {
  env: Env;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** Subscribes to SIGHUP (tokens file re-read, drop folder rescan); returns the unsubscribe. */
  onHangup?: (listener: () => void) => () => void;
}

/** Wiring only: config, logger, Kafka client, the service, run until the signal. */
export async function runCollector(io: CollectorIo): Promise<number> {
  let config: CollectorConfig;
  try {
    config = loadCollectorConfig(io.env);
  } catch (error) {
    const logger = createLogger({ service: 'collector', version: CALWATCH_VERSION });
    logger.fatal({ err: error }, 'invalid configuration');
    logger.flush();
    return 2;
  }
  const logger = createLogger({ service: 'collector', version: CALWATCH_VERSION, level: config.logLevel });
  const kafka = createKafkaClient({ connection: config.kafka, logger: logger.child({ component: 'kafka' }) });
  // Kafka gone past the outage budget ends the run like a signal does, with exit code 1.
  const shutdown = new AbortController();
  let fatal = false;
  io.signal.addEventListener('abort', () => shutdown.abort(), { once: true });
  if (io.signal.aborted) shutdown.abort();
  const service = createCollectorService({
    config,
    logger,
    kafka,
    onFatal: () => {
      fatal = true;
      shutdown.abort();
    },
  });
  const unsubscribe = io.onHangup?.(() => {
    logger.info('SIGHUP: reloading tokens file and rescanning the drop folder');
    service.reload().catch((error: unknown) => logger.error({ err: error }, 'reload failed'));
  });
  try {
    const code = await runUntilSignal([service], { logger, signal: shutdown.signal, graceMs: config.shutdownGraceMs });
    return fatal ? 1 : code;
  } finally {
    unsubscribe?.();
  }
}
