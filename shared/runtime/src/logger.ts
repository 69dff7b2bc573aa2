import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

export type Logger = PinoLogger;

/** Paths whose values never reach a log line: credentials, tokens, webhook URLs. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
  'tokens',
  '*.tokens',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'url',
  '*.url',
  'webhookUrl',
  '*.webhookUrl',
  'routingKey',
  '*.routingKey',
  'sasl',
  '*.sasl',
];

export interface LoggerOptions {
  service: string;
  version: string;
  level?: string;
  /** Defaults to stdout; tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

/** The one root logger of a process: JSON to stdout with service and version on every line. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service, version: options.version },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination(1),
  );
}

/** A logger that drops everything, for library code called without one (and quiet tests). */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
