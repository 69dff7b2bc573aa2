import type { Env } from '@calwatch/runtime';

/**
 * The environment a service or command runs with: what the user set wins; connection
 * variables left unset are filled from the running local stack, so `calwatch demo` and
 * `calwatch processor` work on a fresh machine without configuration.
 */
export async function resolveServiceEnv(env: Env): Promise<Env> {
  const needsStack = env.KAFKA_BROKERS === undefined || env.ELASTICSEARCH_URL === undefined;
  if (!needsStack) return env;
  // Loaded only here: a command that needs no stack does not pay for its module at start-up.
  const { buildStackConnectionEnv, loadStackSettings, readStackInfo } = await import('@calwatch/stack');
  const info = await readStackInfo({ settings: loadStackSettings(env) });
  if (info === undefined) return env;
  // Credentials and TLS settings come from the stack only when the address does too.
  const { kafka, elasticsearch } = buildStackConnectionEnv(info);
  return { ...(env.KAFKA_BROKERS === undefined ? kafka : {}), ...(env.ELASTICSEARCH_URL === undefined ? elasticsearch : {}), ...env };
}
