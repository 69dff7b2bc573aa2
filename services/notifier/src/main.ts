import { createKafkaClient } from '@calwatch/kafka';
import { CALWATCH_VERSION, createLogger, createReadiness, runUntilSignal, type Env } from '@calwatch/runtime';
import { loadNotifierConfig } from './config';
import { createNotifierService } from './notifier-service';

/** Wiring only: config, logger, Kafka client, the service, run until the signal. */
export async function runNotifier(io: { env: Env; signal: AbortSignal }): Promise<number> {
  const config = loadNotifierConfig(io.env);
  const logger = createLogger({ service: 'notifier', version: CALWATCH_VERSION, level: config.logLevel });
  const readiness = createReadiness();
  const kafka = createKafkaClient({ connection: config.kafka, logger, readiness });
  // Stops on the process signal or when the consumer gives up for good.
  const stop = new AbortController();
  let failed = false;
  io.signal.addEventListener('abort', () => stop.abort(), { once: true });
  if (io.signal.aborted) stop.abort();
  const service = createNotifierService({
    config,
    logger,
    kafka,
    readiness,
    onFatal: () => {
      failed = true;
      stop.abort();
    },
  });
  const code = await runUntilSignal([service], { logger, signal: stop.signal, graceMs: config.delivery.drainTimeoutMs + 20_000 });
  return failed ? 1 : code;
}
