/**
 * A finding with a large revoke plan, end to end on the real broker and node: the processor
 * publishes a bounded finding and one revocation record per planned CAL, the indexer turns
 * them into a bounded finding document and a revoke table with one document per license.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createElasticsearchClient } from '@calwatch/elasticsearch';
import { createKafkaClient, type KafkaClient } from '@calwatch/kafka';
import { type CanonicalEvent, PUBLISHED_LIST_MAX, type PlannedRevocation, Revocation } from '@calwatch/model';
import { createSilentLogger } from '@calwatch/runtime';
import { createProcessorService, loadProcessorConfig, parseCoreConfig } from '@calwatch/processor';
import { createTimelineKit } from '@calwatch/processor/testing';
import { buildIndexNames, createIndexerService, installElasticsearchSetup, loadIndexerConfig } from '@calwatch/indexer';
import { deleteIndexSet } from '../harness/cleanup';
import { getTestServices } from '../harness/services';
import { countDocuments, waitForCount } from './indexer-support';
import { type Namespace, byTime, closingEvents, collect, createNamespace, publish, publishClosing, readFindings } from './processor-helpers';
import { waitFor } from '../harness/wait-for';

const PARTITIONS = 2;
const REISSUES = 1_400;
const NAMES = 200;
/** Surplus beyond one CAL per name; the 20% cap of 10,000 installed CALs plans them in one batch. */
const PLANNED = REISSUES - NAMES;

let kafka: KafkaClient;
let ns: Namespace;

/** One HWID on 200 cloned desktops, reissued 1,400 times over ten days. */
function massClone(): CanonicalEvent[] {
  const kit = createTimelineKit({ server: 'LS-BIG' });
  const events: CanonicalEvent[] = [kit.keyPack({ day: 0, keyPackId: 1, total: 10_000, available: 3_000 })];
  for (let i = 0; i < REISSUES; i++) {
    events.push(kit.issue(5_000 + i, { hwid: 'be01', computer: `GOLD-${String(i % NAMES).padStart(4, '0')}`, day: (i * 10) / REISSUES }));
  }
  return events;
}

beforeAll(async () => {
  kafka = createKafkaClient({ connection: getTestServices().kafka, logger: createSilentLogger() });
  ns = await createNamespace(kafka, PARTITIONS, 'revoke');
});

afterAll(async () => {
  await ns.remove();
});

describe('a finding with a large revoke plan', () => {
  it('publishes a bounded finding and one revocation per planned CAL, indexed as a bounded document and a revoke table', async () => {
    const events = massClone();
    const closing = closingEvents(PARTITIONS, Math.max(...events.map((e) => Date.parse(e.eventTime))));
    await publish(kafka, ns.topics, byTime(events));
    await publishClosing(kafka, ns.topics, closing);

    const findings = await collect(kafka, ns.topics.findings);
    const revocations = await collect(kafka, ns.topics.revocations);
    // The default keeps 500 licenses per HWID in state; the published records must stay bounded beyond that.
    const detection = parseCoreConfig({ state: { maxLicensesPerKey: 5_000 } });
    const processor = createProcessorService({ config: loadProcessorConfig(ns.env({ LOG_LEVEL: 'silent' })), detection, logger: createSilentLogger(), kafka });

    const indexerConfig = loadIndexerConfig(ns.env({ INDEXER_GROUP_ID: `${ns.prefix}indexer`, INDEXER_FETCH_MAX_WAIT_MS: '50', LOG_LEVEL: 'silent' }));
    const names = buildIndexNames(indexerConfig.indexPrefix);
    const client = createElasticsearchClient({ connection: getTestServices().elasticsearch });
    await installElasticsearchSetup({ client, names });
    const indexer = createIndexerService({ config: indexerConfig, logger: createSilentLogger(), kafka, elasticsearch: client });

    await processor.start();
    await indexer.start();
    try {
      const finding = await waitFor(
        () => {
          const clone = [...readFindings(findings.records).latest.values()].find((f) => f.kind === 'cloned-image');
          return clone !== undefined && clone.revokePlan.reduce((n, b) => n + b.count, 0) === PLANNED ? clone : undefined;
        },
        120_000,
        'the cloned-image finding with its whole plan',
      );
      expect(finding).toMatchObject({ schemaVersion: 2, hwidCount: 1, computerCount: NAMES, licenseCount: REISSUES, leakedCals: PLANNED });
      for (const list of [finding.computers, finding.licenseIds, finding.reclaimableLicenseIds]) expect(list).toHaveLength(PUBLISHED_LIST_MAX);
      expect(finding.revokePlan.reduce((n, b) => n + b.licenseIds.length, 0)).toBe(PUBLISHED_LIST_MAX);
      // Every finding update on the topic stays small, however many CALs it plans.
      for (const record of findings.records) expect(record.value!.length).toBeLessThan(20_000);

      // The revocations topic folds into one planned record per license of the plan.
      const planned = await waitFor(
        () => {
          const table = new Map<string, PlannedRevocation>();
          for (const record of revocations.records) {
            const r = Revocation.parse(JSON.parse(record.value!.toString()));
            if (r.state === 'planned') table.set(record.key!, r);
            else table.delete(record.key!);
          }
          return table.size === PLANNED ? table : undefined;
        },
        60_000,
        'one planned revocation per reclaimable CAL',
      );
      expect(new Set([...planned.values()].map((r) => r.findingId))).toEqual(new Set([finding.id]));
      expect([...planned.values()].every((r) => r.batch === 1 && r.keyPackId === 1 && r.productVersion === 'Windows Server 2019')).toBe(true);

      await waitForCount(client, names.revocationsAlias, PLANNED, 120_000, 'revocation documents');
      await waitForCount(client, names.findingsAlias, 1, 60_000, 'the finding document');
      const doc = await client.get<any>({ index: names.findingsIndex, id: finding.id });
      const source = doc._source.calwatch.finding;
      expect(source).toMatchObject({ computer_count: NAMES, license_count: REISSUES, reclaimable_cals: PLANNED });
      expect(source.license_ids).toHaveLength(PUBLISHED_LIST_MAX);
      expect(source.computers).toHaveLength(PUBLISHED_LIST_MAX);
      expect(source.revoke_plan).toHaveLength(1);
      expect(source.revoke_plan[0].license_count).toBe(PLANNED);

      // The revoke table pages: every planned license once, by id, soonest first.
      const page = await client.search<any>({
        index: names.revocationsAlias,
        size: 100,
        sort: [{ 'calwatch.revocation.not_before': 'asc' }, { 'calwatch.revocation.license_id': 'asc' }],
        query: { term: { 'calwatch.revocation.finding_id': finding.id } },
        track_total_hits: true,
      });
      expect((page.hits.total as { value: number }).value).toBe(PLANNED);
      const ids = page.hits.hits.map((h) => h._source.calwatch.revocation.license_id as number);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(page.hits.hits[0]!._id).toBe(`LS-BIG|${ids[0]}`);
      expect(await countDocuments(client, names.revocationsAlias, { term: { 'calwatch.license_server': 'LS-BIG' } })).toBe(PLANNED);
    } finally {
      await indexer.stop();
      await processor.stop();
      await findings.stop();
      await revocations.stop();
      await deleteIndexSet(client, names);
      await client.close();
    }
  });
});
