import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createElasticsearchClient, type ElasticsearchClient } from '@calwatch/elasticsearch';
import { createSilentLogger } from '@calwatch/runtime';
import { buildIndexNames, createIndexerService, installElasticsearchSetup, loadIndexerConfig, type IndexerService } from '@calwatch/indexer';
import { buildSampleFinding, buildSampleLicenseEvent } from '@calwatch/indexer/testing';
import { getTestServices, uniqueName } from '../harness/services';
import { type IndexerBroker, isCaughtUp, openIndexerBroker, waitForCaughtUp, waitForCount } from './indexer-support';
import { createThrowawayNode, type ThrowawayNode } from './indexer-throwaway-node';

/**
 * Elasticsearch stopped for a while, then started again: nothing is lost. This runs against
 * a throw-away node (same distribution, own data and ports) so the shared node other tests
 * use is never stopped. While the node is down the indexer holds its batch and commits
 * nothing; after the restart every document arrives.
 */
/** How long the node stays down: the outage itself, not a wait for anything. */
const NODE_OUTAGE_MS = 15_000;

describe('indexer through an Elasticsearch outage', () => {
  const prefix = uniqueName('ixoutage');
  let node: ThrowawayNode;
  let client: ElasticsearchClient;
  let broker: IndexerBroker;
  let service: IndexerService | undefined;
  const names = buildIndexNames(`${prefix}-`);

  beforeAll(async () => {
    node = await createThrowawayNode();
    await node.start();
    client = createElasticsearchClient({ connection: { url: node.url, tlsInsecure: false }, requestTimeoutMs: 5_000 });
    await installElasticsearchSetup({ client, names });
    broker = await openIndexerBroker(`${prefix}.`, 2);
  }, 300_000);

  afterAll(async () => {
    await service?.stop();
    await broker?.close();
    await client?.close();
    await node?.destroy();
  }, 120_000);

  it('holds the batch while the node is down and indexes everything once it is back', async () => {
    const config = loadIndexerConfig({
      KAFKA_BROKERS: getTestServices().kafka.brokers.join(','),
      ELASTICSEARCH_URL: node.url,
      CALWATCH_TOPIC_PREFIX: `${prefix}.`,
      CALWATCH_INDEX_PREFIX: names.prefix,
      INDEXER_GROUP_ID: `${prefix}-indexer`,
      INDEXER_FETCH_MAX_WAIT_MS: '50',
      INDEXER_RETRY_MIN_DELAY_MS: '200',
      INDEXER_RETRY_MAX_DELAY_MS: '2000',
      INDEXER_REQUEST_TIMEOUT_MS: '5000',
      INDEXER_METRICS_PORT: '0',
    });
    const indexerClient = createElasticsearchClient({ connection: { url: node.url, tlsInsecure: false }, requestTimeoutMs: 5_000 });
    service = createIndexerService({ config, logger: createSilentLogger(), kafka: broker.kafka, elasticsearch: indexerClient });
    await service.start();

    const { topics, producer, admin } = broker;
    const event = (seq: number) => ({ topic: topics.enriched, key: `k${seq % 7}`, value: JSON.stringify(buildSampleLicenseEvent({ seq, eventTime: '2026-11-25T12:00:00.000Z' })) });
    await producer.send(Array.from({ length: 50 }, (_, i) => event(i)));
    await waitForCount(client, names.enrichedAlias, 50, 60_000, 'first 50 documents');

    await node.stop();
    await producer.send([
      ...Array.from({ length: 50 }, (_, i) => event(50 + i)),
      { topic: topics.findings, key: 'f1', value: JSON.stringify(buildSampleFinding({ id: 'f1', revision: 2 })) },
    ]);
    // The outage under test: the node stays down this long, and through it the indexer keeps
    // retrying and commits nothing it has not written.
    await new Promise((resolve) => setTimeout(resolve, NODE_OUTAGE_MS));
    expect(service.state).toBe('running');
    expect(await isCaughtUp(admin, config.groupId, topics.enriched)).toBe(false);
    expect(service.stats().rejected).toBe(0);

    await node.start();
    await waitForCount(client, names.enrichedAlias, 100, 120_000, 'all 100 documents after the restart');
    await waitForCount(client, names.findingsAlias, 1, 60_000, 'the finding');
    await waitForCaughtUp(admin, config.groupId, topics.enriched, 60_000, 'offsets committed');
    const stats = service.stats();
    expect(stats.retries).toBeGreaterThan(0);
    expect(stats.rejected + stats.invalid).toBe(0);
    await service.stop();
    await indexerClient.close();
  }, 420_000);
});
