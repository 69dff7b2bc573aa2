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
import { elasticsearchEnvShape, kafkaEnvShape, loadConfig, toElasticsearchConnection, toKafkaConnection, type ElasticsearchConnection, type KafkaConnection } from '@calwatch/runtime';
import { probeElasticsearch, probeKafka, releaseStackLease, stackUp } from '@calwatch/stack';
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

function fromEnvironment(env: NodeJS.ProcessEnv): TestServices | undefined {
  const brokers = env.KAFKA_BROKERS?.trim();
  const url = env.ELASTICSEARCH_URL?.trim();
  if (!brokers && !url) return undefined;
  if (!brokers || !url) {
    throw new Error(
      `integration services: ${brokers ? 'KAFKA_BROKERS' : 'ELASTICSEARCH_URL'} is set but ${brokers ? 'ELASTICSEARCH_URL' : 'KAFKA_BROKERS'} ` +
        'is not; set both, or neither to use containers or the local stack',
    );
  }
  // The services' own parsing: TLS files, SASL and API keys are read (and checked) as they would be.
  const elasticsearch = toElasticsearchConnection(loadConfig(z.object(elasticsearchEnvShape), env));
  const kafka: KafkaConnection = { ...toKafkaConnection(loadConfig(z.object(kafkaEnvShape), env)), clientId: CLIENT_ID };
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
    const keep = process.env.CALWATCH_TEST_KEEP_STACK === '1';
    let info;
    try {
      const result = await stackUp({ log: say, lease: !keep });
      info = result.info;
      if (!keep) teardown = async () => void (await releaseStackLease({ log: say }));
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
