import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildIndexNames } from '../index-names';
import { buildEnrichedMappings, buildFindingsMappings, buildRevocationsMappings, listMappedFields } from '../mappings';
import { buildSavedObjects, SAVED_OBJECTS_FILE, toNdjson, type SavedObject } from './saved-objects';

const names = buildIndexNames('calwatch-');
const objects = buildSavedObjects(names);
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** Data view title (an alias) → the fields its indices map. */
const fieldsByTitle = new Map<string, Map<string, string>>([
  [names.enrichedAlias, listMappedFields(buildEnrichedMappings().properties)],
  [names.findingsAlias, listMappedFields(buildFindingsMappings().properties)],
  [names.revocationsAlias, listMappedFields(buildRevocationsMappings().properties)],
]);

const byId = new Map(objects.map((o) => [o.id, o]));

function fieldsOfDataView(id: string): Map<string, string> {
  const view = byId.get(id);
  expect(view?.type, `data view ${id}`).toBe('index-pattern');
  const fields = fieldsByTitle.get(view!.attributes['title'] as string);
  expect(fields, `mapping behind ${view!.attributes['title'] as string}`).toBeDefined();
  return fields!;
}

/** Field names a KQL expression refers to (`field : value`, `field > n`). */
function kqlFields(query: string): string[] {
  const out: string[] = [];
  for (const match of query.matchAll(/([A-Za-z@_][\w.@]*)\s*(?::|>=|<=|>|<)/g)) {
    if (!['and', 'or', 'not'].includes(match[1]!)) out.push(match[1]!);
  }
  return out;
}

interface Panel {
  type: string;
  panelIndex: string;
  gridData: { x: number; y: number; w: number; h: number; i: string };
  panelRefName?: string;
  embeddableConfig: { attributes?: any };
}

const dashboard = objects.find((o) => o.type === 'dashboard')!;
const panels = JSON.parse(dashboard.attributes['panelsJSON'] as string) as Panel[];

describe('saved objects', () => {
  it('are the committed NDJSON, byte for byte (regenerate with `calwatch kibana export`)', () => {
    const committed = readFileSync(`${repoRoot}${SAVED_OBJECTS_FILE}`, 'utf8');
    // A boolean keeps a stale file from printing two 40 kB strings.
    expect(committed === toNdjson(objects), `${SAVED_OBJECTS_FILE} is stale: calwatch kibana export > ${SAVED_OBJECTS_FILE}`).toBe(true);
  });

  it('have unique ids, known types, migration versions and resolvable references', () => {
    expect(new Set(objects.map((o) => o.id)).size).toBe(objects.length);
    for (const o of objects) {
      expect(['index-pattern', 'search', 'dashboard']).toContain(o.type);
      expect(o.coreMigrationVersion).toMatch(/^8\.\d+\.\d+$/);
      expect(o.typeMigrationVersion).toMatch(/^\d+\.\d+\.\d+$/);
      for (const ref of o.references) expect(byId.get(ref.id)?.type, `${o.id} -> ${ref.id}`).toBe(ref.type);
    }
    // Dependencies come first in the file.
    const position = new Map(objects.map((o, i) => [o.id, i]));
    for (const o of objects) for (const ref of o.references) expect(position.get(ref.id)!).toBeLessThan(position.get(o.id)!);
  });

  it('point data views at the read aliases with @timestamp as the time field, except the revoke table', () => {
    const views = objects.filter((o) => o.type === 'index-pattern');
    expect(views.map((v) => v.attributes['title']).sort()).toEqual([names.enrichedAlias, names.findingsAlias, names.revocationsAlias]);
    for (const v of views) {
      // The revoke table is current state: the dashboard's time range must not hide planned CALs.
      if (v.attributes['title'] === names.revocationsAlias) expect(v.attributes['timeFieldName']).toBeUndefined();
      else expect(fieldsByTitle.get(v.attributes['title'] as string)!.get(v.attributes['timeFieldName'] as string)).toBe('date');
    }
  });

  it('sort the revoke table by when each CAL may be revoked, on mapped fields', () => {
    const table = objects.find((o) => o.id === 'calwatch-revoke-table')!;
    const fields = fieldsOfDataView(table.references[0]!.id);
    expect(table.attributes['sort']).toEqual([
      ['calwatch.revocation.not_before', 'asc'],
      ['calwatch.revocation.license_id', 'asc'],
    ]);
    for (const [field] of table.attributes['sort'] as [string, string][]) expect(fields.get(field)).toBeDefined();
  });

  it('use only mapped fields in saved searches', () => {
    for (const search of objects.filter((o) => o.type === 'search')) {
      const fields = fieldsOfDataView(search.references[0]!.id);
      for (const column of search.attributes['columns'] as string[]) expect(fields.has(column), `${search.id}: ${column}`).toBe(true);
      const source = JSON.parse((search.attributes['kibanaSavedObjectMeta'] as { searchSourceJSON: string }).searchSourceJSON);
      expect(source.indexRefName).toBe(search.references[0]!.name);
      for (const f of kqlFields(source.query.query)) expect(fields.has(f), `${search.id} query: ${f}`).toBe(true);
    }
  });
});

describe('the leakage dashboard', () => {
  it('has every panel the issue asks for', () => {
    const titles = panels.map((p) => p.embeddableConfig.attributes?.title ?? byId.get(dashboard.references.find((r) => r.name === `${p.panelIndex}:${p.panelRefName}`)!.id)!.attributes['title']);
    for (const wanted of [/issued per hour against the pool/i, /by kind and severity/i, /Top HWIDs/, /Top computers/, /ping-pong timeline/i, /Reclaimable CALs/, /revoke plan/i, /burn-down/i, /exhaustion/i]) {
      expect(titles.some((t) => wanted.test(t as string)), String(wanted)).toBe(true);
    }
  });

  it('lays panels out on the 48-column grid without overlaps', () => {
    const cells = new Set<string>();
    for (const p of panels) {
      const { x, y, w, h, i } = p.gridData;
      expect(i).toBe(p.panelIndex);
      expect(x + w).toBeLessThanOrEqual(48);
      for (let cx = x; cx < x + w; cx++)
        for (let cy = y; cy < y + h; cy++) {
          expect(cells.has(`${cx},${cy}`), `overlap at ${cx},${cy}`).toBe(false);
          cells.add(`${cx},${cy}`);
        }
    }
  });

  it('references each by-reference panel and each Lens layer data view from the dashboard', () => {
    const refNames = new Set(dashboard.references.map((r) => r.name));
    for (const p of panels) {
      if (p.type === 'search') {
        expect(refNames.has(`${p.panelIndex}:${p.panelRefName}`)).toBe(true);
        continue;
      }
      expect(p.type).toBe('lens');
      const attributes = p.embeddableConfig.attributes;
      for (const layerId of Object.keys(attributes.state.datasourceStates.formBased.layers)) {
        const name = `indexpattern-datasource-layer-${layerId}`;
        expect(attributes.references.some((r: { name: string }) => r.name === name)).toBe(true);
        expect(refNames.has(`${p.panelIndex}:${name}`)).toBe(true);
      }
    }
  });

  it('builds Lens columns consistently and only on mapped fields of fitting types', () => {
    const numeric = new Set(['long', 'integer', 'short', 'byte']);
    for (const p of panels.filter((panel) => panel.type === 'lens')) {
      const attributes = p.embeddableConfig.attributes;
      const title = attributes.title as string;
      const columnIds = new Set<string>();
      for (const [layerId, layer] of Object.entries<any>(attributes.state.datasourceStates.formBased.layers)) {
        const viewId = attributes.references.find((r: { name: string }) => r.name === `indexpattern-datasource-layer-${layerId}`).id;
        const fields = fieldsOfDataView(viewId);
        expect([...layer.columnOrder].sort()).toEqual(Object.keys(layer.columns).sort());
        for (const [id, column] of Object.entries<any>(layer.columns)) {
          columnIds.add(id);
          for (const ref of column.references ?? []) expect(layer.columns[ref], `${title}: ${id} -> ${ref}`).toBeDefined();
          if (column.filter !== undefined) for (const f of kqlFields(column.filter.query)) expect(fields.has(f), `${title} filter: ${f}`).toBe(true);
          if (column.operationType === 'formula') {
            for (const q of (column.params.formula as string).matchAll(/kql='([^']*)'/g)) for (const f of kqlFields(q[1]!)) expect(fields.has(f), `${title} formula: ${f}`).toBe(true);
            for (const f of (column.params.formula as string).matchAll(/\(([a-z@][\w.]*)[,)]/g)) expect(fields.has(f[1]!), `${title} formula field ${f[1]!}`).toBe(true);
          }
          if (column.sourceField === undefined || column.sourceField === '___records___') continue;
          const type = fields.get(column.sourceField);
          expect(type, `${title}: ${column.sourceField}`).toBeDefined();
          if (column.operationType === 'date_histogram') expect(type).toBe('date');
          if (column.operationType === 'terms') expect(type).toBe('keyword');
          if (['sum', 'average', 'min', 'max'].includes(column.operationType)) expect(numeric.has(type!), `${title}: ${column.sourceField}`).toBe(true);
          if (column.operationType === 'unique_count') expect(type).not.toBe('text');
        }
      }
      for (const f of kqlFields(attributes.state.query.query)) {
        const viewId = attributes.references[0].id;
        expect(fieldsOfDataView(viewId).has(f), `${title} query: ${f}`).toBe(true);
      }
      const viz = attributes.state.visualization;
      const accessors: string[] = [
        ...(viz.metricAccessor === undefined ? [] : [viz.metricAccessor]),
        ...(viz.columns ?? []).map((c: { columnId: string }) => c.columnId),
        ...(viz.layers ?? []).flatMap((l: any) => [l.xAccessor, ...l.accessors, ...(l.splitAccessor === undefined ? [] : [l.splitAccessor])]),
      ];
      expect(accessors.length, title).toBeGreaterThan(0);
      for (const a of accessors) expect(columnIds.has(a), `${title}: accessor ${a}`).toBe(true);
    }
  });

  it('follows the configured prefix', () => {
    const other = buildSavedObjects(buildIndexNames('calwatch-replay-x-'));
    const views = other.filter((o: SavedObject) => o.type === 'index-pattern').map((o) => o.attributes['title']);
    expect(views.sort()).toEqual(['calwatch-replay-x-enriched', 'calwatch-replay-x-findings', 'calwatch-replay-x-revocations']);
  });
});
