import kafkajs, { type LogEntry, type logCreator, type logLevel as KafkajsLogLevel } from 'kafkajs';

const { logLevel } = kafkajs;
import type { Logger } from '@calwatch/runtime';

const LEVEL_NAMES: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** Bridges kafkajs logs into the process's pino tree under `component: kafka`. */
export function createKafkajsLogCreator(logger: Logger): logCreator {
  const kafkaLogger = logger.child({ component: 'kafka' });
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, ...extra } = log;
      const method = LEVEL_NAMES[level] ?? 'info';
      kafkaLogger[method]({ namespace, ...extra }, message);
    };
}

/** kafkajs level that lets through what the pino logger would print. */
export function kafkajsLevelFor(logger: Logger): KafkajsLogLevel {
  switch (logger.level) {
    case 'debug':
    case 'trace':
      return logLevel.DEBUG;
    case 'info':
      return logLevel.INFO;
    case 'warn':
      return logLevel.WARN;
    case 'silent':
      return logLevel.NOTHING;
    default:
      return logLevel.ERROR;
  }
}
