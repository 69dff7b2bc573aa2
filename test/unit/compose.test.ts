/**
 * docker-compose.yml cannot run here (no Docker engine), so its structure is held to what
 * the code says: services and dependencies exist, ports do not clash, the calwatch
 * services are built from deploy/Dockerfile and run registered commands with variables
 * their config schemas read, and the images match the versions the local stack runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMMANDS } from '@calwatch/cli';
import { DEFAULT_ELASTICSEARCH_VERSION, DEFAULT_KAFKA_VERSION } from '@calwatch/stack';
import { elasticsearchEnvShape, kafkaEnvShape } from '@calwatch/runtime';

const root = join(import.meta.dirname, '..', '..');

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string[] | string;
  depends_on?: string[] | Record<string, { condition?: string }>;
  ports?: Array<string | { published?: string | number; target?: number }>;
  environment?: Record<string, string | number | boolean | null> | string[];
  healthcheck?: { test?: unknown };
  restart?: string;
}

const CALWATCH_SERVICES = ['setup', 'collector', 'processor', 'indexer', 'notifier'];

function keysOf(schema: { shape: Record<string, unknown> }): string[] {
  return Object.keys(schema.shape);
}

/**
 * The variables each calwatch service may be given: the keys of the config schema its
 * package exports. Packages that export none yet fall back to the shared connection
 * shapes plus their own prefix.
 */
async function knownEnv(service: string): Promise<Set<string>> {
  const shared = [...Object.keys(kafkaEnvShape), ...Object.keys(elasticsearchEnvShape)];
  switch (service) {
    case 'collector':
      return new Set(keysOf((await import('@calwatch/collector')).CollectorEnvSchema));
    case 'indexer':
      return new Set(keysOf((await import('@calwatch/indexer')).IndexerEnvSchema));
    case 'setup':
      // Topics (Kafka shape) and then the Elasticsearch templates (es-setup's schema).
      return new Set([...Object.keys(kafkaEnvShape), ...keysOf((await import('@calwatch/indexer')).EsSetupEnvSchema)]);
    default:
      return new Set([...shared, 'LOG_LEVEL', `${service.toUpperCase()}_`]);
  }
}

function isKnown(name: string, known: Set<string>): boolean {
  return known.has(name) || [...known].some((k) => k.endsWith('_') && name.startsWith(k));
}

function envNames(service: ComposeService): string[] {
  const env = service.environment ?? {};
  return Array.isArray(env) ? env.map((e) => e.split('=')[0]!) : Object.keys(env);
}

function envValue(service: ComposeService, name: string): string | undefined {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return env.find((e) => e.startsWith(`${name}=`))?.slice(name.length + 1);
  const value = env[name];
  return value === undefined || value === null ? undefined : String(value);
}

function dependsOn(service: ComposeService): Array<[string, string]> {
  const deps = service.depends_on ?? [];
  return Array.isArray(deps) ? deps.map((d) => [d, 'service_started']) : Object.entries(deps).map(([d, o]) => [d, o.condition ?? 'service_started']);
}

function publishedPorts(service: ComposeService): string[] {
  return (service.ports ?? []).map((p) => {
    if (typeof p === 'object') return String(p.published);
    // [ip:]host:container[/proto]
    const parts = p.split('/')[0]!.split(':');
    return parts.length >= 2 ? parts[parts.length - 2]! : parts[0]!;
  });
}

describe('docker-compose.yml', () => {
  let services: Record<string, ComposeService>;

  beforeAll(() => {
    const doc = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services?: Record<string, ComposeService> };
    services = doc.services ?? {};
  });

  it('has Kafka, Elasticsearch, Kibana and every calwatch service', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['kafka', 'elasticsearch', 'kibana', ...CALWATCH_SERVICES]));
  });

  it('gives every service an image or a build', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.image !== undefined || service.build !== undefined, `${name} has neither image nor build`).toBe(true);
    }
  });

  it('depends only on services that exist, waiting on health checks that exist', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [target, condition] of dependsOn(service)) {
        expect(services[target], `${name} depends on unknown ${target}`).toBeDefined();
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition);
        if (condition === 'service_healthy') expect(services[target]!.healthcheck?.test, `${target} has no healthcheck`).toBeDefined();
        if (condition === 'service_completed_successfully') expect(services[target]!.restart, `${target} must be one-shot`).toBe('no');
      }
    }
  });

  it('publishes each host port once', () => {
    const ports = Object.values(services).flatMap(publishedPorts);
    expect(ports.length).toBeGreaterThan(0);
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('builds every calwatch service from deploy/Dockerfile, whose entry point is the calwatch command', () => {
    for (const name of CALWATCH_SERVICES) {
      const build = services[name]!.build;
      expect(typeof build === 'object' ? [build.context, build.dockerfile] : build, name).toEqual(['.', 'deploy/Dockerfile']);
    }
    const dockerfile = readFileSync(join(root, 'deploy', 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24/m);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/app\/services\/cli\/bin\/calwatch"\]/m);
    expect(existsSync(join(root, 'services', 'cli', 'bin', 'calwatch'))).toBe(true);
  });

  it('keeps the plaintext Kafka listener off the host: no published port, no listener advertised as localhost', () => {
    const kafka = services.kafka!;
    expect(publishedPorts(kafka)).toEqual([]);
    const protocols = Object.fromEntries((envValue(kafka, 'KAFKA_LISTENER_SECURITY_PROTOCOL_MAP') ?? '').split(',').map((pair) => pair.split(':') as [string, string]));
    for (const listener of (envValue(kafka, 'KAFKA_ADVERTISED_LISTENERS') ?? '').split(',')) {
      const [name, address] = listener.split('://') as [string, string];
      if (protocols[name] === 'PLAINTEXT') expect(address, `${name} is plaintext`).not.toMatch(/^(localhost|127\.|0\.0\.0\.0)/);
    }
  });

  it('runs the indexer as the least-privilege writer that setup creates, never as elastic', () => {
    expect(envValue(services.indexer!, 'ELASTICSEARCH_USERNAME')).toBe(envValue(services.setup!, 'CALWATCH_ES_WRITER_USER'));
    expect(envValue(services.indexer!, 'ELASTICSEARCH_USERNAME')).not.toBe('elastic');
    const command = services.setup!.command;
    expect(Array.isArray(command) ? command : command?.split(/\s+/)).toContain('--elasticsearch-users');
  });

  it('runs commands the calwatch CLI has', () => {
    for (const name of CALWATCH_SERVICES) {
      const command = services[name]!.command;
      const first = Array.isArray(command) ? command[0] : command?.split(/\s+/)[0];
      expect(first, `${name} runs no command`).toBeDefined();
      expect(Object.keys(COMMANDS), `${name}: 'calwatch ${first}' is not a registered command`).toContain(first);
    }
  });

  it('passes calwatch services only variables their configuration reads', async () => {
    for (const name of CALWATCH_SERVICES) {
      const known = await knownEnv(name);
      const unknown = envNames(services[name]!).filter((v) => !isKnown(v, known));
      expect(unknown, `${name} is given variables nothing reads`).toEqual([]);
      expect(envValue(services[name]!, 'KAFKA_BROKERS'), `${name} must reach Kafka inside the network`).toBe('kafka:19092');
    }
  });

  it('runs the versions the local stack runs, Kafka without topic auto-creation, Elasticsearch with security', () => {
    expect(services.kafka!.image).toBe(`apache/kafka:${DEFAULT_KAFKA_VERSION}`);
    expect(services.elasticsearch!.image).toBe(`docker.elastic.co/elasticsearch/elasticsearch:${DEFAULT_ELASTICSEARCH_VERSION}`);
    expect(services.kibana!.image).toBe(`docker.elastic.co/kibana/kibana:${DEFAULT_ELASTICSEARCH_VERSION}`);
    expect(envValue(services.kafka!, 'KAFKA_AUTO_CREATE_TOPICS_ENABLE')).toBe('false');
    expect(envValue(services.elasticsearch!, 'xpack.security.enabled')).toBe('true');
  });
});
