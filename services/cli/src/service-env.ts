import type { Env } from '@calwatch/runtime';
import { readStackInfo } from '@calwatch/stack';

/**
 * The environment a service or command runs with: what the user set wins; connection
 * variables left unset are filled from the running local stack, so `calwatch demo` and
 * `calwatch processor` work on a fresh machine without configuration.
 */
export async function resolveServiceEnv(env: Env): Promise<Env> {
  const needsStack = env.KAFKA_BROKERS === undefined || env.ELASTICSEARCH_URL === undefined;
  if (!needsStack) return env;
  const info = await readStackInfo({ env: env as NodeJS.ProcessEnv });
  if (info === undefined) return env;
  const fromStack: Record<string, string> = {
    KAFKA_BROKERS: info.kafka.brokers.join(','),
    ELASTICSEARCH_URL: info.elasticsearch.url,
    ELASTICSEARCH_USERNAME: info.elasticsearch.username,
    ELASTICSEARCH_PASSWORD: info.elasticsearch.password,
  };
  // Credentials come from the stack only when the URL does too.
  if (env.ELASTICSEARCH_URL !== undefined) {
    delete fromStack.ELASTICSEARCH_URL;
    delete fromStack.ELASTICSEARCH_USERNAME;
    delete fromStack.ELASTICSEARCH_PASSWORD;
  }
  if (env.KAFKA_BROKERS !== undefined) delete fromStack.KAFKA_BROKERS;
  return { ...fromStack, ...env };
}
