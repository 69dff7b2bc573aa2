/**
 * Finds a real Kafka broker and Elasticsearch node for the integration tests, in order:
 *   1. the environment: KAFKA_BROKERS and ELASTICSEARCH_URL, with every other KAFKA_* and
 *      ELASTICSEARCH_* connection variable the services read (TLS files, SASL, API key);
 *   2. containers, when a Docker engine answers (testcontainers);
 *   3. the local stack (`calwatch stack`), started when not running.
 * Tests get the result through getTestServices(). When none can be had the run fails:
 * an integration suite that skips is not a passing one. At teardown only what this setup
 * started is stopped: containers at once; local-stack components when the last test run
 * using the stack ends (CALWATCH_TEST_KEEP_STACK=1 leaves the stack running).
 */
import type { TestProject } from 'vitest/node';
import { z } from 'zod';
import { ElasticsearchConfigSchema, KafkaConfigSchema, loadConfig, type ElasticsearchConnection, type Env, type KafkaConnection } from '@calwatch/runtime';
import { loadStackSettings, probeElasticsearch, probeKafka, releaseStackLease, stackUp } from '@calwatch/stack';
import { buildConnectionEnv } from './connection-env';
import type { TestServices } from './services';
import { isContainerRuntimeAvailable, startContainers } from './testcontainers';

const CLIENT_ID = 'calwatch-test';

function say(line: string): void {
  process.stderr.write(`[integration services] ${line}\n`);
}

function fromConnections(source: TestServices['source'], kafka: KafkaConnection, elasticsearch: ElasticsearchConnection): TestServices {
  return { source, kafka, elasticsearch, env: buildConnectionEnv(kafka, elasticsearch) };
}

/** What the harness itself reads: whether services were named, and whether to keep the stack running. */
const HarnessEnvSchema = z
  .object({
    KAFKA_BROKERS: z.string().trim().optional(),
    ELASTICSEARCH_URL: z.string().trim().optional(),
    CALWATCH_TEST_KEEP_STACK: z.string().optional(),
  })
  .transform((e) => ({
    kafkaGiven: e.KAFKA_BROKERS !== undefined && e.KAFKA_BROKERS !== '',
    elasticsearchGiven: e.ELASTICSEARCH_URL !== undefined && e.ELASTICSEARCH_URL !== '',
    keepStack: e.CALWATCH_TEST_KEEP_STACK === '1',
  }));

function fromEnvironment(env: Env): TestServices | undefined {
  const harness = loadConfig(HarnessEnvSchema, env);
  if (!harness.kafkaGiven && !harness.elasticsearchGiven) return undefined;
  if (!harness.kafkaGiven || !harness.elasticsearchGiven) {
    const [given, missing] = harness.kafkaGiven ? ['KAFKA_BROKERS', 'ELASTICSEARCH_URL'] : ['ELASTICSEARCH_URL', 'KAFKA_BROKERS'];
    throw new Error(`integration services: ${given} is set but ${missing} is not; set both, or neither to use containers or the local stack`);
  }
  // The services' own schemas: TLS files, SASL and API keys are read (and checked) as they would be.
  const { elasticsearch } = loadConfig(ElasticsearchConfigSchema, env);
  const kafka: KafkaConnection = { ...loadConfig(KafkaConfigSchema, env).kafka, clientId: CLIENT_ID };
  return fromConnections('environment', kafka, elasticsearch);
}

/** Both services must answer before any test runs, so a dead service fails loudly here. */
async function verify(services: TestServices): Promise<void> {
  const problems: string[] = [];
  // The probes connect as the services do: TLS files and SASL included.
  const kafka = await probeKafka(services.kafka, { createTopic: false });
  if (!kafka.ok) problems.push(`Kafka at ${services.kafka.brokers.join(',')}: ${kafka.detail}`);
  // A node trusted by fingerprint alone or without verification is beyond this probe; the tests check it.
  if (!services.elasticsearch.tlsInsecure && (services.elasticsearch.caFingerprint === undefined || services.elasticsearch.caFile !== undefined)) {
    const es = await probeElasticsearch(services.elasticsearch.url, services.elasticsearch.auth, { caFile: services.elasticsearch.caFile });
    if (!es.ok) problems.push(`Elasticsearch at ${services.elasticsearch.url}: ${es.detail}`);
  }
  if (problems.length > 0) throw new Error(`integration services (${services.source}) do not answer: ${problems.join('; ')}`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let teardown = async (): Promise<void> => undefined;
  let services = fromEnvironment(process.env);

  if (services === undefined && (await isContainerRuntimeAvailable())) {
    say('a container runtime answers: starting Kafka and Elasticsearch containers');
    const started = await startContainers();
    services = fromConnections(
      'testcontainers',
      { brokers: started.brokers, clientId: CLIENT_ID, ssl: false },
      { url: started.elasticsearchUrl, auth: { username: started.username, password: started.password }, tlsInsecure: false },
    );
    teardown = () => started.stop();
  }

  if (services === undefined) {
    // Every run takes a lease on the shared stack, so a run that started it never stops it
    // under another run's feet; the last run out stops what runs started.
    const keep = loadConfig(HarnessEnvSchema, process.env).keepStack;
    let info;
    try {
      const settings = loadStackSettings(process.env);
      const result = await stackUp({ settings, log: say, lease: !keep });
      info = result.info;
      if (!keep) teardown = async () => void (await releaseStackLease({ settings, log: say }));
    } catch (error) {
      throw new Error(
        'integration services: none available. Set KAFKA_BROKERS and ELASTICSEARCH_URL, provide a Docker engine, ' +
          `or make 'calwatch stack up' work (it failed: ${error instanceof Error ? error.message : String(error)})`,
        { cause: error },
      );
    }
    services = fromConnections(
      'local-stack',
      { brokers: info.kafka.brokers, clientId: CLIENT_ID, ssl: false },
      { url: info.elasticsearch.url, auth: { username: info.elasticsearch.username, password: info.elasticsearch.password }, tlsInsecure: false },
    );
  }

  try {
    await verify(services);
  } catch (error) {
    await teardown();
    throw error;
  }
  say(`${services.source}: Kafka ${services.kafka.brokers.join(',')}, Elasticsearch ${services.elasticsearch.url}`);
  project.provide('calwatchServices', services);
  return teardown;
}
