import { describe, expect, it } from 'vitest';
import { decideTemplateAction, describeDegradations, hashTemplateBody } from './es-setup';
import { buildIndexNames, TEMPLATE_VERSION } from './index-names';
import { buildEnrichedMappings, buildFindingsMappings, buildRevocationsMappings, buildTemplateSet, listMappedFields, type Properties } from './mappings';

/** Field types the minimal distribution (server + transport, no modules) provides. */
const CORE_TYPES = new Set(['keyword', 'text', 'date', 'long', 'integer', 'short', 'byte', 'boolean', 'object']);

function types(properties: Properties): string[] {
  return [...listMappedFields(properties).values()];
}

describe('mappings', () => {
  it('use only core field types and strict dynamic mapping', () => {
    for (const mapping of [buildEnrichedMappings(), buildFindingsMappings(), buildRevocationsMappings()]) {
      expect(mapping.dynamic).toBe('strict');
      for (const type of types(mapping.properties)) expect(CORE_TYPES.has(type), type).toBe(true);
    }
  });

  it('map ids as keywords, times as dates and counts as numbers', () => {
    const enriched = listMappedFields(buildEnrichedMappings().properties);
    expect(enriched.get('@timestamp')).toBe('date');
    expect(enriched.get('event.id')).toBe('keyword');
    expect(enriched.get('host.id')).toBe('keyword');
    expect(enriched.get('calwatch.keypack.available_licenses')).toBe('long');
    const findings = listMappedFields(buildFindingsMappings().properties);
    expect(findings.get('calwatch.finding.updated_at')).toBe('date');
    expect(findings.get('calwatch.finding.reclaimable_cals')).toBe('integer');
    expect(findings.get('calwatch.finding.id')).toBe('keyword');
    const revocations = listMappedFields(buildRevocationsMappings().properties);
    expect(revocations.get('calwatch.revocation.license_id')).toBe('long');
    expect(revocations.get('calwatch.revocation.not_before')).toBe('date');
    expect(revocations.get('calwatch.revocation.finding_id')).toBe('keyword');
  });
});

describe('buildTemplateSet', () => {
  const names = buildIndexNames('calwatch-');
  const set = buildTemplateSet(names, { shards: 1, replicas: 0, refreshInterval: '1s', findingsRefreshInterval: '250ms' });

  it('composes each index template only from components of the set', () => {
    const components = new Set(set.components.map((c) => c.name));
    for (const t of set.indexTemplates) for (const c of t.body.composed_of) expect(components.has(c), c).toBe(true);
  });

  it('puts the read aliases on the index templates and versions everything', () => {
    const byName = new Map(set.indexTemplates.map((t) => [t.name, t.body]));
    expect(byName.get('calwatch-enriched-v1')?.template.aliases).toEqual({ 'calwatch-enriched': {} });
    expect(byName.get('calwatch-enriched-v1')?.index_patterns).toEqual(['calwatch-enriched-v1-*']);
    expect(byName.get('calwatch-findings-v1')?.template.aliases).toEqual({ 'calwatch-findings': {} });
    expect(byName.get('calwatch-revocations-v1')?.template.aliases).toEqual({ 'calwatch-revocations': {} });
    expect(byName.get('calwatch-revocations-v1')?.index_patterns).toEqual(['calwatch-revocations-v1']);
    for (const body of [...set.components.map((c) => c.body), ...set.indexTemplates.map((t) => t.body)]) {
      expect(body.version).toBe(TEMPLATE_VERSION);
      expect(body._meta['managed_by']).toBe('calwatch');
    }
  });

  it('merges to the same effective mappings the documents are checked against', () => {
    const componentProps = set.components.flatMap((c) => (c.body.template.mappings === undefined ? [] : [c.body.template.mappings.properties]));
    const merged = new Map<string, string>();
    for (const props of componentProps) for (const [k, v] of listMappedFields(props)) merged.set(k, v);
    const expected = new Map([
      ...listMappedFields(buildEnrichedMappings().properties),
      ...listMappedFields(buildFindingsMappings().properties),
      ...listMappedFields(buildRevocationsMappings().properties),
    ]);
    expect(merged).toEqual(expected);
  });

  it('hashes bodies independently of key order', () => {
    const body = set.components[0]!.body;
    const reordered = JSON.parse(JSON.stringify({ template: body.template, _meta: body._meta, version: body.version }));
    expect(hashTemplateBody(reordered)).toBe(hashTemplateBody(body));
    expect(hashTemplateBody({ ...body, version: body.version + 1 })).not.toBe(hashTemplateBody(body));
  });
});

describe('decideTemplateAction', () => {
  it('creates, keeps, upgrades and refuses to downgrade', () => {
    expect(decideTemplateAction(undefined, 1001, 'h')).toBe('created');
    expect(decideTemplateAction({ version: 1001, hash: 'h' }, 1001, 'h')).toBe('unchanged');
    expect(decideTemplateAction({ version: 1001, hash: 'other' }, 1001, 'h')).toBe('updated');
    expect(decideTemplateAction({ version: 1000, hash: 'h' }, 1001, 'h')).toBe('updated');
    expect(decideTemplateAction({ version: undefined, hash: undefined }, 1001, 'h')).toBe('updated');
    expect(decideTemplateAction({ version: 1002, hash: 'h' }, 1001, 'h')).toBe('newer-installed');
  });
});

describe('describeDegradations', () => {
  it('says what happens without each optional feature', () => {
    const minimal = { version: '8.19.0', buildFlavor: 'default', modules: [], plugins: [], ingestPipelines: false, painless: false, lifecycleManagement: false };
    const notes = describeDegradations(minimal);
    expect(notes).toHaveLength(3);
    expect(notes.join('\n')).toMatch(/lifecycle/);
    expect(describeDegradations({ ...minimal, ingestPipelines: true, painless: true, lifecycleManagement: true })).toEqual([]);
  });
});
