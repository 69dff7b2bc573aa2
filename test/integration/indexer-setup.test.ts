import { afterAll, describe, expect, it } from 'vitest';
import { createElasticsearchClient } from '@calwatch/elasticsearch';
import { isCalwatchError } from '@calwatch/model';
import {
  buildIndexNames,
  buildTemplateSet,
  installElasticsearchSetup,
  checkElasticsearchSetup,
  restoreRefresh,
  suspendRefresh,
  TEMPLATE_VERSION,
} from '@calwatch/indexer';
import { deleteIndexSet } from '../harness/cleanup';
import { getTestServices, uniqueName } from '../harness/services';

describe('Elasticsearch setup on the real node', () => {
  const client = createElasticsearchClient({ connection: getTestServices().elasticsearch });
  const names = buildIndexNames(`${uniqueName('ixsetup')}-`);
  const now = new Date('2026-11-27T12:00:00.000Z');

  afterAll(async () => {
    await deleteIndexSet(client, names);
    await client.close();
  });

  it('refuses to index before setup, then installs everything once and nothing the second time', async () => {
    const missing = await checkElasticsearchSetup(client, names).catch((e: unknown) => e);
    expect(isCalwatchError(missing, 'INDEXER_SETUP_MISSING')).toBe(true);

    const first = await installElasticsearchSetup({ client, names, now });
    expect(first.unchanged).toBe(false);
    expect(first.templates.map((t) => t.action)).toEqual(Array(8).fill('created'));
    expect(first.indices).toEqual([
      { name: names.findingsIndex, action: 'created' },
      { name: names.revocationsIndex, action: 'created' },
      { name: `${names.prefix}enriched-v1-2026.11`, action: 'created' },
    ]);
    // The minimal distribution: what it lacks is reported, not required.
    expect(first.capabilities.version).toMatch(/^8\.19\./);
    expect(first.capabilities.ingestPipelines).toBe(false);
    expect(first.degraded.length).toBeGreaterThan(0);

    const second = await installElasticsearchSetup({ client, names, now });
    expect(second.unchanged).toBe(true);
    expect(second.templates.map((t) => t.action)).toEqual(Array(8).fill('unchanged'));
    expect(second.indices.map((i) => i.action)).toEqual(['exists', 'exists', 'exists']);

    expect((await checkElasticsearchSetup(client, names)).installedVersion).toBe(TEMPLATE_VERSION);
  });

  it('creates indices with the explicit mapping and the read aliases', async () => {
    const aliases = await client.indices.getAlias({ name: [names.findingsAlias, names.enrichedAlias, names.revocationsAlias] });
    expect(Object.keys(aliases).sort()).toEqual([`${names.prefix}enriched-v1-2026.11`, names.findingsIndex, names.revocationsIndex].sort());
    const revocations = await client.indices.getMapping({ index: names.revocationsIndex });
    expect((revocations[names.revocationsIndex]!.mappings.properties?.['calwatch'] as any).properties.revocation.properties.not_before.type).toBe('date');
    const mapping = await client.indices.getMapping({ index: names.findingsIndex });
    const props = mapping[names.findingsIndex]!.mappings;
    expect(props.dynamic).toBe('strict');
    expect((props.properties?.['calwatch'] as any).properties.finding.properties.updated_at.type).toBe('date');
    // Findings and the revoke table are searchable sooner than the high-volume enriched events.
    const refresh = await client.indices.getSettings({ index: `${names.prefix}*`, name: 'index.refresh_interval' });
    const intervalOf = (index: string) => (refresh[index]!.settings as any).index.refresh_interval;
    expect([intervalOf(names.findingsIndex), intervalOf(names.revocationsIndex), intervalOf(`${names.prefix}enriched-v1-2026.11`)]).toEqual(['250ms', '250ms', '1s']);
    // A new month's index picks up template, mapping and alias on its own.
    await client.index({ index: names.enrichedIndexFor('2027-01-05T00:00:00.000Z'), id: 'x', document: { '@timestamp': '2027-01-05T00:00:00.000Z' }, refresh: true });
    const alias = await client.indices.getAlias({ name: names.enrichedAlias });
    expect(Object.keys(alias)).toContain(`${names.prefix}enriched-v1-2027.01`);
    const strict = await client.index({ index: names.findingsIndex, id: 'y', document: { invented: 1 } }).catch((e: unknown) => e);
    expect((strict as { meta?: { statusCode?: number } }).meta?.statusCode).toBe(400);
  });

  it('upgrades an older install in place and refuses to downgrade a newer one', async () => {
    const set = buildTemplateSet(names, { shards: 1, replicas: 0, refreshInterval: '1s', findingsRefreshInterval: '250ms' });
    const findingsComponent = set.components.find((c) => c.name === names.templates.findingsMappings)!;
    // An "older release": version one lower and a mapping without `remediation`.
    const older = structuredClone(findingsComponent.body);
    older.version = TEMPLATE_VERSION - 1;
    delete (older.template.mappings!.properties['calwatch'] as any).properties.finding.properties.remediation;
    await client.cluster.putComponentTemplate({ name: findingsComponent.name, ...older } as never);
    // Indices made by an older release kept the shared refresh interval.
    await client.indices.putSettings({ index: names.findingsIndex, settings: { index: { refresh_interval: '1s' } } });

    const upgraded = await installElasticsearchSetup({ client, names, now });
    const refresh = await client.indices.getSettings({ index: names.findingsIndex, name: 'index.refresh_interval' });
    expect((refresh[names.findingsIndex]!.settings as any).index.refresh_interval).toBe('250ms');
    expect(upgraded.templates.find((t) => t.name === findingsComponent.name)?.action).toBe('updated');
    expect(upgraded.indices.some((i) => i.name === names.findingsIndex && i.action === 'mapping-updated')).toBe(true);

    await client.cluster.putComponentTemplate({ name: findingsComponent.name, ...findingsComponent.body, version: TEMPLATE_VERSION + 1 } as never);
    const refused = await installElasticsearchSetup({ client, names, now }).catch((e: unknown) => e);
    expect(isCalwatchError(refused, 'INDEXER_SETUP_NEWER')).toBe(true);
  });

  it('suspends refreshes for a load and restores them', async () => {
    const suspension = await suspendRefresh(client, names);
    expect(Object.keys(suspension.previous).sort()).toEqual(
      [`${names.prefix}enriched-v1-2026.11`, `${names.prefix}enriched-v1-2027.01`, names.findingsIndex, names.revocationsIndex].sort(),
    );
    const during = await client.indices.getSettings({ index: names.findingsIndex, name: 'index.refresh_interval' });
    expect((during[names.findingsIndex]!.settings as any).index.refresh_interval).toBe('-1');
    await restoreRefresh(client, suspension);
    const after = await client.indices.getSettings({ index: names.findingsIndex, name: 'index.refresh_interval' });
    expect((after[names.findingsIndex]!.settings as any).index.refresh_interval).toBe('250ms');
  });
});
