/**
 * Kafka (KRaft) and Elasticsearch as containers, for machines with a Docker engine. The
 * images and versions match the local stack and docker-compose.yml.
 */
import { randomBytes } from 'node:crypto';
import { GenericContainer, getContainerRuntimeClient, Wait, type StartedTestContainer } from 'testcontainers';
import { DEFAULT_ELASTICSEARCH_VERSION, DEFAULT_KAFKA_VERSION } from '@calwatch/stack';
import { freePort } from './free-port';

export const KAFKA_IMAGE = `apache/kafka:${DEFAULT_KAFKA_VERSION}`;
export const ELASTICSEARCH_IMAGE = `docker.elastic.co/elasticsearch/elasticsearch:${DEFAULT_ELASTICSEARCH_VERSION}`;

/** True when a container runtime answers; never throws. */
export async function isContainerRuntimeAvailable(): Promise<boolean> {
  try {
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export interface StartedContainers {
  brokers: string[];
  elasticsearchUrl: string;
  username: string;
  password: string;
  stop(): Promise<void>;
}

/**
 * Kafka's advertised address must be known before it starts, so its client port is bound
 * to a fixed host port chosen here. The broker talks to itself (e.g. transaction markers)
 * over a separate INTERNAL listener that resolves inside the container.
 */
async function startKafka(host: string): Promise<{ container: StartedTestContainer; brokers: string[] }> {
  const hostPort = await freePort();
  const container = await new GenericContainer(KAFKA_IMAGE)
    .withExposedPorts({ container: 9092, host: hostPort })
    .withEnvironment({
      CLUSTER_ID: randomBytes(16).toString('base64url'),
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:9092,INTERNAL://0.0.0.0:19092,CONTROLLER://0.0.0.0:9093',
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${hostPort},INTERNAL://localhost:19092`,
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_HEAP_OPTS: '-Xms256m -Xmx512m',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(180_000)
    .start();
  return { container, brokers: [`${host}:${hostPort}`] };
}

async function startElasticsearch(password: string): Promise<{ container: StartedTestContainer; url: string }> {
  const container = await new GenericContainer(ELASTICSEARCH_IMAGE)
    .withExposedPorts(9200)
    .withEnvironment({
      'discovery.type': 'single-node',
      'xpack.security.enabled': 'true',
      'xpack.security.http.ssl.enabled': 'false',
      'xpack.security.transport.ssl.enabled': 'false',
      'cluster.routing.allocation.disk.threshold_enabled': 'false',
      'action.destructive_requires_name': 'false',
      ELASTIC_PASSWORD: password,
      ES_JAVA_OPTS: '-Xms512m -Xmx512m',
    })
    .withWaitStrategy(
      Wait.forHttp('/_cluster/health?wait_for_status=yellow&timeout=1s', 9200).withBasicCredentials('elastic', password).forStatusCode(200),
    )
    .withStartupTimeout(240_000)
    .start();
  return { container, url: `http://${container.getHost()}:${container.getMappedPort(9200)}` };
}

export async function startContainers(): Promise<StartedContainers> {
  const runtime = await getContainerRuntimeClient();
  const host = runtime.info.containerRuntime.host;
  const password = randomBytes(18).toString('base64url');
  const [kafka, es] = await Promise.allSettled([startKafka(host), startElasticsearch(password)]);
  if (kafka.status === 'rejected' || es.status === 'rejected') {
    await Promise.allSettled([kafka, es].flatMap((r) => (r.status === 'fulfilled' ? [r.value.container.stop()] : [])));
    throw kafka.status === 'rejected' ? kafka.reason : (es as PromiseRejectedResult).reason;
  }
  return {
    brokers: kafka.value.brokers,
    elasticsearchUrl: es.value.url,
    username: 'elastic',
    password,
    async stop() {
      await Promise.allSettled([kafka.value.container.stop(), es.value.container.stop()]);
    },
  };
}
