/**
 * What integration tests use to reach Kafka and Elasticsearch. The global setup
 * (global-setup.ts) finds the services once per run and provides them here.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { ElasticsearchConnection, KafkaConnection } from '@calwatch/runtime';

export type ServicesSource = 'environment' | 'testcontainers' | 'local-stack';

export interface TestServices {
  /** Where the services came from: environment variables, containers, or `calwatch stack`. */
  source: ServicesSource;
  kafka: KafkaConnection;
  elasticsearch: ElasticsearchConnection;
  /** The same connection as the variables calwatch's config loaders read (KAFKA_BROKERS, ELASTICSEARCH_URL, ...). */
  env: Record<string, string>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    calwatchServices: TestServices;
  }
}

/** The services of this run. Throws when called outside the integration project. */
export function getTestServices(): TestServices {
  const services = inject('calwatchServices');
  if (services === undefined) {
    throw new Error('no test services: integration tests run through the vitest "integration" project (test/harness/global-setup.ts)');
  }
  return services;
}

/**
 * A name no other test (or earlier run) uses, valid as a Kafka topic, consumer group and
 * Elasticsearch index (lowercase; [a-z0-9-]).
 */
export function uniqueName(prefix = 'calwatch-test'): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '');
  return `${clean || 'calwatch-test'}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Environment for a calwatch config loader in a test: the services' connection plus
 * topic and index prefixes unique to the caller, so tests never see each other's data.
 */
export function buildTestEnv(overrides: Record<string, string> = {}, prefix = uniqueName('calwatch-test')): Record<string, string> {
  return {
    ...getTestServices().env,
    // Several services run at once in tests: each on a free probe port.
    PROCESSOR_METRICS_PORT: '0',
    INDEXER_METRICS_PORT: '0',
    NOTIFIER_METRICS_PORT: '0',
    CALWATCH_TOPIC_PREFIX: `${prefix}.`,
    CALWATCH_INDEX_PREFIX: `${prefix}-`,
    ...overrides,
  };
}
