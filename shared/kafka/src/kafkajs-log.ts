import kafkajs, { type LogEntry, type logCreator, type logLevel as KafkajsLogLevel } from 'kafkajs';

const { logLevel } = kafkajs;
import type { Logger } from '@calwatch/runtime';

const LEVEL_NAMES: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Bridges kafkajs logs into the logger the client was given (the services give theirs
 * `component: kafka`; kafkajs adds `logger: kafkajs` to each line).
 *
 * kafkajs's Connection logs every error response at error level, also those its callers
 * handle as part of normal work: each member's heartbeats answer "the group is rebalancing"
 * whenever a processor joins or leaves, and an outage the adapter rides out fails every
 * request on the way. What fails a call reaches its caller, which logs it at its own level
 * (error when it stops the service); the connection's own line goes out as a warning.
 */
export function createKafkajsLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, ...extra } = log;
      const method = level === logLevel.ERROR && namespace === 'Connection' ? 'warn' : (LEVEL_NAMES[level] ?? 'info');
      logger[method]({ namespace, ...extra }, message);
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
