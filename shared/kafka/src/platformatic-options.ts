import type { BaseOptions, SASLOptions } from '@platformatic/kafka';
import type { KafkaConnection, KafkaSaslMechanism } from '@calwatch/runtime';
import { buildKafkaTlsOptions } from './kafkajs-client';

const SASL_MECHANISMS: Record<KafkaSaslMechanism, SASLOptions['mechanism']> = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
};

export interface PlatformaticTimeouts {
  requestTimeoutMs: number;
  connectionTimeoutMs: number;
  retries: number;
}

/** Library retry delays: exponential from 200 ms to 10 s, as the kafkajs client is set up. */
function retryDelayMs(_client: unknown, _operation: string, attempt: number): number {
  return Math.min(10_000, 200 * 2 ** Math.max(0, attempt - 1));
}

/**
 * The connection options every @platformatic/kafka client of calwatch gets: brokers, TLS
 * (the same files, read the same way as for kafkajs) and SASL, timeouts and retries.
 */
export function buildPlatformaticOptions(connection: KafkaConnection, timeouts: PlatformaticTimeouts, readFile?: (path: string) => Buffer): BaseOptions {
  const tls = buildKafkaTlsOptions(connection.ssl, readFile);
  return {
    clientId: connection.clientId,
    bootstrapBrokers: connection.brokers,
    ...(tls === false ? {} : { tls: tls === true ? {} : tls }),
    ...(connection.sasl === undefined
      ? {}
      : { sasl: { mechanism: SASL_MECHANISMS[connection.sasl.mechanism], username: connection.sasl.username, password: connection.sasl.password } }),
    timeout: timeouts.requestTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    connectTimeout: timeouts.connectionTimeoutMs,
    retries: timeouts.retries,
    retryDelay: retryDelayMs,
    autocreateTopics: false,
  };
}
