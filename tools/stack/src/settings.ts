import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { deepFreeze, type Env } from '@calwatch/runtime';
import { STACK_ERRORS } from './errors';

const port = z.coerce.number().int().min(1).max(65_535);
const version = z.string().regex(/^\d+\.\d+\.\d+$/, 'expected MAJOR.MINOR.PATCH');

/**
 * Versions the stack runs by default. Kafka 4.4.0 is the newest release kafkajs 2.2.4 was
 * checked against (test/harness/kafkajs-compat.ts); 8.19.21 is the newest
 * integ-test-zip of Elasticsearch on Maven Central.
 */
export const DEFAULT_KAFKA_VERSION = '4.4.0';
export const DEFAULT_ELASTICSEARCH_VERSION = '8.19.21';

/** Every variable the local stack reads; its entry point (the CLI, the test harness) passes them in. */
export const StackEnvSchema = z.object({
  CALWATCH_STACK_DIR: z.string().min(1).optional(),
  CALWATCH_CACHE_DIR: z.string().min(1).optional(),
  CALWATCH_JAVA_HOME: z.string().min(1).optional(),
  JAVA_HOME: z.string().optional(),
  XDG_CACHE_HOME: z.string().optional(),
  XDG_STATE_HOME: z.string().optional(),
  HOME: z.string().optional(),
  PATH: z.string().optional(),
  // 4.x only: the generated configuration is KRaft-only and logs through log4j2.
  CALWATCH_STACK_KAFKA_VERSION: version.regex(/^4\./, 'the stack runs Kafka 4.x').default(DEFAULT_KAFKA_VERSION),
  CALWATCH_STACK_ELASTICSEARCH_VERSION: version.regex(/^8\./, 'the stack runs an Elasticsearch 8.x integ-test-zip').default(DEFAULT_ELASTICSEARCH_VERSION),
  CALWATCH_STACK_KAFKA_PORT: port.default(9092),
  CALWATCH_STACK_KAFKA_CONTROLLER_PORT: port.default(9093),
  CALWATCH_STACK_ELASTICSEARCH_PORT: port.default(9200),
  CALWATCH_STACK_ELASTICSEARCH_TRANSPORT_PORT: port.default(9300),
  CALWATCH_STACK_KAFKA_HEAP_MB: z.coerce.number().int().min(128).max(16_384).default(512),
  CALWATCH_STACK_ELASTICSEARCH_HEAP_MB: z.coerce.number().int().min(256).max(16_384).default(512),
  CALWATCH_STACK_START_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(180_000),
  CALWATCH_STACK_STOP_GRACE_MS: z.coerce.number().int().min(0).default(30_000),
  CALWATCH_STACK_USER: z.string().regex(/^[a-z_][a-z0-9_-]*$/).default('calwatch'),
});

export interface StackSettings {
  /** Runtime state: pid files, data, logs, credentials, stack.json. */
  stateDir: string;
  /** Downloads and unpacked distributions, shared by every clone and state dir. */
  cacheDir: string;
  javaHome: string | undefined;
  extraJavaHomes: string[];
  kafka: { version: string; port: number; controllerPort: number; heapMb: number };
  elasticsearch: { version: string; port: number; transportPort: number; heapMb: number };
  startTimeoutMs: number;
  stopGraceMs: number;
  /** Elasticsearch refuses to run as root; when we are root it runs as this user. */
  serviceUser: string;
  /** PATH of the Kafka and Elasticsearch processes (their environment is otherwise built, not inherited). */
  childPath: string;
  /** The environment Maven runs in: the one given, so proxy and repository settings reach it. */
  toolEnv: Env;
}

const STACK_PORTS = [
  'CALWATCH_STACK_KAFKA_PORT',
  'CALWATCH_STACK_KAFKA_CONTROLLER_PORT',
  'CALWATCH_STACK_ELASTICSEARCH_PORT',
  'CALWATCH_STACK_ELASTICSEARCH_TRANSPORT_PORT',
] as const;

/** The stack's settings as it reads them: camelCase, grouped by component. */
export const StackSettingsSchema = StackEnvSchema.superRefine((e, ctx) => {
  const ports = STACK_PORTS.map((name) => e[name]);
  if (new Set(ports).size !== ports.length) {
    ctx.addIssue({ code: 'custom', path: ['CALWATCH_STACK_KAFKA_PORT'], message: `the four stack ports must differ (${ports.join(', ')})` });
  }
}).transform(
  (e): Omit<StackSettings, 'toolEnv'> => {
    const home = e.HOME !== undefined && e.HOME !== '' ? e.HOME : homedir();
    const stateBase = e.XDG_STATE_HOME !== undefined && e.XDG_STATE_HOME !== '' ? e.XDG_STATE_HOME : join(home, '.local', 'state');
    const cacheBase = e.XDG_CACHE_HOME !== undefined && e.XDG_CACHE_HOME !== '' ? e.XDG_CACHE_HOME : join(home, '.cache');
    return {
      stateDir: e.CALWATCH_STACK_DIR ?? join(stateBase, 'calwatch', 'stack'),
      cacheDir: e.CALWATCH_CACHE_DIR ?? join(cacheBase, 'calwatch'),
      javaHome: e.CALWATCH_JAVA_HOME,
      extraJavaHomes: e.JAVA_HOME !== undefined && e.JAVA_HOME !== '' ? [e.JAVA_HOME] : [],
      kafka: {
        version: e.CALWATCH_STACK_KAFKA_VERSION,
        port: e.CALWATCH_STACK_KAFKA_PORT,
        controllerPort: e.CALWATCH_STACK_KAFKA_CONTROLLER_PORT,
        heapMb: e.CALWATCH_STACK_KAFKA_HEAP_MB,
      },
      elasticsearch: {
        version: e.CALWATCH_STACK_ELASTICSEARCH_VERSION,
        port: e.CALWATCH_STACK_ELASTICSEARCH_PORT,
        transportPort: e.CALWATCH_STACK_ELASTICSEARCH_TRANSPORT_PORT,
        heapMb: e.CALWATCH_STACK_ELASTICSEARCH_HEAP_MB,
      },
      startTimeoutMs: e.CALWATCH_STACK_START_TIMEOUT_MS,
      stopGraceMs: e.CALWATCH_STACK_STOP_GRACE_MS,
      serviceUser: e.CALWATCH_STACK_USER,
      childPath: e.PATH !== undefined && e.PATH !== '' ? e.PATH : '/usr/bin:/bin',
    };
  },
);

/**
 * Parses the stack's settings once from the environment its entry point passes in
 * (`calwatch stack`, the test harness); the result is deeply frozen. Every problem is
 * listed at once (STACK_SETTINGS_INVALID).
 */
export function loadStackSettings(env: Env): Readonly<StackSettings> {
  const parsed = StackSettingsSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw STACK_ERRORS.create('STACK_SETTINGS_INVALID', `invalid stack settings: ${problems.join('; ')}`, {
      context: { problems },
    });
  }
  // The environment is copied: freezing the caller's object (often process.env) would break it.
  return deepFreeze({ ...parsed.data, toolEnv: { ...env } });
}
