import type { Logger } from './logger';

/** A long-running part: explicit start and an idempotent stop that drains and flushes. */
export interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface RunOptions {
  logger: Logger;
  /** Fires on SIGINT/SIGTERM (the CLI owns the process signals). */
  signal: AbortSignal;
  /** Stop must finish within this; past it the process exits non-zero. */
  graceMs: number;
}

/**
 * Starts the services in order, waits for the signal, stops them in reverse order under
 * a grace timeout. Returns the exit code for the caller to set.
 */
export async function runUntilSignal(services: readonly Service[], options: RunOptions): Promise<number> {
  const { logger, signal } = options;
  const started: Service[] = [];
  let exitCode = 0;
  try {
    for (const service of services) {
      await service.start();
      started.push(service);
    }
    logger.info('started');
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    logger.info('stopping');
  } catch (error) {
    logger.error({ err: error }, 'failed to start');
    exitCode = 1;
  }
  const stopAll = (async () => {
    for (const service of started.reverse()) {
      try {
        await service.stop();
      } catch (error) {
        logger.error({ err: error }, 'error while stopping');
        exitCode = 1;
      }
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    stopAll.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), options.graceMs);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    logger.error({ graceMs: options.graceMs }, 'shutdown exceeded the grace period');
    exitCode = 1;
  }
  logger.info({ exitCode }, 'stopped');
  logger.flush();
  return exitCode;
}
