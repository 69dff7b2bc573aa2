import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createElasticsearchClient } from '@calwatch/elasticsearch';
import { type OutgoingRecord } from '@calwatch/kafka';
import { type EnrichedEvent, type Finding } from '@calwatch/model';
import { createSilentLogger } from '@calwatch/runtime';
import { buildIndexNames, createIndexerService, installElasticsearchSetup, loadIndexerConfig, type IndexerService } from '@calwatch/indexer';
import { buildSampleEnrichedEventsOfEveryType, buildSampleFinding, buildSampleLicenseEvent } from '@calwatch/indexer/testing';
import { deleteIndexSet } from '../harness/cleanup';
import { buildTestEnv, getTestServices, uniqueName } from '../harness/services';
import { type IndexerBroker, countDocuments, openIndexerBroker, readDeadLetters, waitForCaughtUp, waitForCount } from './indexer-support';

/**
 * The indexer end to end on the real broker and node: findings and enriched events arrive,
 * are searchable and aggregate correctly; re-delivery and replays leave counts unchanged;
 * an older finding update never replaces a newer one; invalid records and documents the
 * node rejects land in the dead-letter topic with the reason.
 */
describe('indexer on the real broker and node', () => {
  const prefix = uniqueName('ixpipe');
  const env = buildTestEnv(
    {
      INDEXER_GROUP_ID: `${prefix}-indexer`,
      INDEXER_FETCH_MAX_WAIT_MS: '50',
      INDEXER_RETRY_MIN_DELAY_MS: '100',
      INDEXER_RETRY_MAX_DELAY_MS: '1000',
      LOG_LEVEL: 'silent',
    },
    prefix,
  );
  const config = loadIndexerConfig(env);
  const names = buildIndexNames(config.indexPrefix);
  const client = createElasticsearchClient({ connection: getTestServices().elasticsearch });
  let broker: IndexerBroker;
  let service: IndexerService;

  // Two cloned images: HWID A on three computers, HWID B on two; plus healthy devices.
  const cloned: EnrichedEvent[] = [
    ...['VDI-001', 'VDI-002', 'VDI-003', 'VDI-001'].map((computer, i) =>
      buildSampleLicenseEvent({ seq: 100 + i, hwid: '0x0201aaaa', computer, classification: 'cloned-image', eventTime: `2026-11-20T0${i}:00:00.000Z` }),
    ),
    ...['VDI-010', 'VDI-011'].map((computer, i) =>
      buildSampleLicenseEvent({ seq: 200 + i, hwid: '0x0201bbbb', computer, classification: 'cloned-image', eventTime: `2026-11-21T0${i}:00:00.000Z` }),
    ),
  ];
  const healthy = Array.from({ length: 20 }, (_, i) => buildSampleLicenseEvent({ seq: 300 + i, eventTime: '2026-11-22T10:00:00.000Z' }));
  const everyType = buildSampleEnrichedEventsOfEveryType('2026-10-05T08:00:00.000Z');
  const enriched = [...cloned, ...healthy, ...everyType];
  // Goes to an index someone created by hand with a conflicting mapping: rejected for good.
  const conflicting = buildSampleLicenseEvent({ seq: 999, eventTime: '2025-01-15T00:00:00.000Z' });

  const findingA = (revision: number, hour: number): Finding =>
    buildSampleFinding({ id: 'cloned-image:LS01:0201aaaa', revision, updatedAt: `2026-11-20T${String(hour).padStart(2, '0')}:00:00.000Z` });
  const findingB = buildSampleFinding({ id: 'cloned-image:LS01:0201bbbb', revision: 1, leakedCals: 1 });
  const findingC: Finding = { ...buildSampleFinding({ id: 'pool-exhaustion:LS01:2022', state: 'resolved' }), kind: 'pool-exhaustion', reclaimableLicenseIds: [], revokePlan: [] };

  function enrichedRecord(event: EnrichedEvent): OutgoingRecord {
    return { topic: broker.topics.enriched, key: event.event.type.startsWith('license.') ? 'hwid' : event.event.licenseServer, value: JSON.stringify(event) };
  }
  function findingRecord(finding: Finding): OutgoingRecord {
    return { topic: broker.topics.findings, key: finding.id, value: JSON.stringify(finding) };
  }

  beforeAll(async () => {
    broker = await openIndexerBroker(config.topicPrefix);
    await installElasticsearchSetup({ client, names });
    await client.indices.create({
      index: names.enrichedIndexFor(conflicting.event.eventTime),
      mappings: { properties: { host: { properties: { name: { type: 'long' } } } } },
    });
    service = createIndexerService({ config, logger: createSilentLogger(), kafka: broker.kafka, elasticsearch: client });
    await service.start();
  });

  afterAll(async () => {
    await service?.stop();
    await broker?.close();
    await deleteIndexSet(client, names);
    await client.close();
  });

  it('indexes findings and enriched events, searchable and aggregating correctly', async () => {
    await broker.producer.send([
      ...enriched.map(enrichedRecord),
      enrichedRecord(conflicting),
      // Newest first, then an older update of the same finding: the newer must win.
      findingRecord(findingA(5, 9)),
      findingRecord(findingB),
      findingRecord(findingC),
    ]);
    await broker.producer.send([findingRecord(findingA(3, 7))]);

    await waitForCount(client, names.enrichedAlias, enriched.length, 60_000, 'enriched events');
    await waitForCount(client, names.findingsAlias, 3, 60_000, 'findings');

    const doc = await client.get<any>({ index: names.findingsIndex, id: 'cloned-image:LS01:0201aaaa' });
    expect(doc._source.calwatch.finding.revision).toBe(5);
    expect(doc._source['@timestamp']).toBe('2026-11-20T09:00:00.000Z');

    const findings = await client.search({
      index: names.findingsAlias,
      size: 0,
      query: { term: { 'calwatch.finding.state': 'open' } },
      aggs: { kinds: { terms: { field: 'calwatch.finding.kind' } }, reclaimable: { sum: { field: 'calwatch.finding.reclaimable_cals' } } },
    });
    expect((findings.aggregations!['kinds'] as any).buckets).toEqual([{ key: 'cloned-image', doc_count: 2 }]);
    // The findings' counts (2 + 1), not the length of their bounded lists.
    expect((findings.aggregations!['reclaimable'] as any).value).toBe(3);

    // Top HWIDs of the ping-pong pattern, by how many computers they appeared under.
    const pingPong = await client.search({
      index: names.enrichedAlias,
      size: 0,
      query: {
        bool: {
          filter: [
            { term: { 'calwatch.context.classification': 'cloned-image' } },
            { term: { 'event.action': 'license.issued' } },
            { range: { '@timestamp': { gte: '2026-11-01T00:00:00Z' } } },
          ],
        },
      },
      aggs: { hwids: { terms: { field: 'host.id', order: { computers: 'desc' } }, aggs: { computers: { cardinality: { field: 'host.name' } } } } },
    });
    const buckets = (pingPong.aggregations!['hwids'] as any).buckets.map((b: any) => [b.key, b.doc_count, b.computers.value]);
    expect(buckets).toEqual([
      ['0201aaaa', 4, 3],
      ['0201bbbb', 2, 2],
    ]);

    const perHour = await client.search({
      index: names.enrichedAlias,
      size: 0,
      query: { range: { '@timestamp': { gte: '2026-11-20T00:00:00Z', lt: '2026-11-21T00:00:00Z' } } },
      aggs: { hours: { date_histogram: { field: '@timestamp', fixed_interval: '1h' } } },
    });
    expect((perHour.aggregations!['hours'] as any).buckets.map((b: any) => b.doc_count)).toEqual([1, 1, 1, 1]);

    const pool = await client.search({ index: names.enrichedAlias, size: 0, aggs: { available: { min: { field: 'calwatch.keypack.available_licenses' } } } });
    expect((pool.aggregations!['available'] as any).value).toBe(12);
  });

  it('dead-letters invalid records and the document the node rejected, with reasons and original bytes', async () => {
    await broker.producer.send([
      { topic: broker.topics.enriched, key: 'x', value: '{"not":"an enriched event"' },
      { topic: broker.topics.findings, key: 'y', value: JSON.stringify({ ...findingB, severity: 'apocalyptic' }) },
    ]);
    const letters = await readDeadLetters(broker.kafka, broker.topics.deadLetter, 3, 60_000);
    const byCode = new Map(letters.map((l) => [l.letter.code, l]));
    expect([...byCode.keys()].sort()).toEqual(['INDEXER_DOCUMENT_REJECTED', 'INDEXER_INVALID_FINDING', 'INDEXER_INVALID_JSON']);
    const rejected = byCode.get('INDEXER_DOCUMENT_REJECTED')!;
    expect(rejected.letter.reason).toMatch(/host\.name|parse/);
    expect(rejected.letter.location.ref).toMatch(new RegExp(`^${broker.topics.enriched.replace(/\./g, '\\.')}\\[\\d\\]@\\d+$`));
    expect(JSON.parse(Buffer.from(rejected.letter.originalBase64, 'base64').toString('utf8'))).toEqual(conflicting);
    expect(byCode.get('INDEXER_INVALID_FINDING')!.letter.issues.some((i) => i.path === 'severity')).toBe(true);
    expect(Buffer.from(byCode.get('INDEXER_INVALID_JSON')!.letter.originalBase64, 'base64').toString('utf8')).toBe('{"not":"an enriched event"');
  });

  it('leaves counts unchanged when the same messages are delivered again or replayed', async () => {
    const before = { enriched: await countDocuments(client, names.enrichedAlias), findings: await countDocuments(client, names.findingsAlias) };
    // Re-delivery: the same messages published again.
    await broker.producer.send([...enriched.map(enrichedRecord), findingRecord(findingA(3, 7)), findingRecord(findingB)]);
    await waitForCaughtUp(broker.admin, config.groupId, broker.topics.enriched, 60_000, 'indexer caught up');
    await waitForCaughtUp(broker.admin, config.groupId, broker.topics.findings, 60_000, 'indexer caught up');

    // Replay: a second indexer reads both topics from the beginning in its own group.
    const replayConfig = loadIndexerConfig({ ...env, INDEXER_GROUP_ID: `${prefix}-replay` });
    const replay = createIndexerService({ config: replayConfig, logger: createSilentLogger(), kafka: broker.kafka, elasticsearch: client });
    await replay.start();
    try {
      await waitForCaughtUp(broker.admin, replayConfig.groupId, broker.topics.enriched, 60_000, 'replay caught up');
      await waitForCaughtUp(broker.admin, replayConfig.groupId, broker.topics.findings, 60_000, 'replay caught up');
    } finally {
      await replay.stop();
    }
    expect(replay.stats().records).toBeGreaterThanOrEqual(enriched.length * 2 + 6);
    expect(await countDocuments(client, names.enrichedAlias)).toBe(before.enriched);
    expect(await countDocuments(client, names.findingsAlias)).toBe(before.findings);
    const doc = await client.get<any>({ index: names.findingsIndex, id: 'cloned-image:LS01:0201aaaa' });
    expect(doc._source.calwatch.finding.revision).toBe(5);
    expect(service.stats().stale + replay.stats().stale).toBeGreaterThan(0);
  });
});
