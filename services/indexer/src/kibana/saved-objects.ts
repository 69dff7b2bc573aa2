import type { IndexNames } from '../index-names';
import {
  buildLensAttributes,
  count,
  datatableVisualization,
  dateHistogram,
  formula,
  kql,
  lastValue,
  metric,
  metricVisualization,
  stableId,
  terms,
  timeRange,
  xyVisualization,
  type ColumnSpec,
  type LensAttributes,
} from './lens';

/**
 * calwatch's Kibana saved objects: two data views, two saved searches and the leakage
 * dashboard (by-value Lens panels). The format is Kibana 8.x's export format; objects
 * carry the migration versions of the format they are written in, so Kibana 8.19 (and
 * later 8.x/9.x) migrates them on import.
 */

export interface SavedObject {
  type: 'index-pattern' | 'search' | 'dashboard';
  id: string;
  attributes: Record<string, unknown>;
  references: Array<{ type: string; id: string; name: string }>;
  coreMigrationVersion: string;
  typeMigrationVersion: string;
  managed: boolean;
}

/**
 * Versions of the export format these objects follow, as Kibana's own bundled sample
 * objects declare them (Kibana migrates older ones forward; newer than it knows fails).
 */
export const KIBANA_FORMAT = {
  core: '8.8.0',
  indexPattern: '7.11.0',
  search: '7.9.3',
  dashboard: '8.7.0',
  /** Panel state version inside the dashboard (by-value Lens as of 8.11). */
  panel: '8.11.0',
} as const;

/** The Kibana versions the objects are built for (README: 8.19). */
export const KIBANA_TARGET_VERSIONS = '8.19';

export interface SavedObjectIds {
  enrichedDataView: string;
  findingsDataView: string;
  pingPongSearch: string;
  revokePlanSearch: string;
  revocationsDataView: string;
  revokeTableSearch: string;
  dashboard: string;
}

export function buildSavedObjectIds(names: IndexNames): SavedObjectIds {
  return {
    enrichedDataView: `${names.prefix}enriched`,
    findingsDataView: `${names.prefix}findings`,
    pingPongSearch: `${names.prefix}ping-pong-events`,
    revokePlanSearch: `${names.prefix}revoke-plan`,
    revocationsDataView: `${names.prefix}revocations`,
    revokeTableSearch: `${names.prefix}revoke-table`,
    dashboard: `${names.prefix}leakage`,
  };
}

/** `timeField` null: a table of current state that the dashboard's time range must not cut. */
function dataView(id: string, title: string, name: string, timeField: string | null = '@timestamp'): SavedObject {
  return {
    type: 'index-pattern',
    id,
    attributes: {
      title,
      name,
      ...(timeField === null ? {} : { timeFieldName: timeField }),
      fields: '[]',
      fieldAttrs: '{}',
      fieldFormatMap: '{}',
      runtimeFieldMap: '{}',
      sourceFilters: '[]',
      typeMeta: '{}',
      allowNoIndex: true,
    },
    references: [],
    coreMigrationVersion: KIBANA_FORMAT.core,
    typeMigrationVersion: KIBANA_FORMAT.indexPattern,
    managed: false,
  };
}

function savedSearch(
  id: string,
  title: string,
  description: string,
  dataViewId: string,
  query: string,
  columns: string[],
  sort: Array<[string, 'asc' | 'desc']> = [['@timestamp', 'desc']],
): SavedObject {
  return {
    type: 'search',
    id,
    attributes: {
      title,
      description,
      columns,
      sort,
      hits: 0,
      version: 1,
      kibanaSavedObjectMeta: {
        searchSourceJSON: JSON.stringify({
          query: kql(query),
          filter: [],
          indexRefName: 'kibanaSavedObjectMeta.searchSourceJSON.index',
        }),
      },
    },
    references: [{ type: 'index-pattern', id: dataViewId, name: 'kibanaSavedObjectMeta.searchSourceJSON.index' }],
    coreMigrationVersion: KIBANA_FORMAT.core,
    typeMigrationVersion: KIBANA_FORMAT.search,
    managed: false,
  };
}

interface Grid {
  x: number;
  y: number;
  w: number;
  h: number;
}

type Panel =
  | { kind: 'lens'; key: string; title: string; grid: Grid; attributes: LensAttributes }
  | { kind: 'search'; key: string; title: string; grid: Grid; searchId: string };

const OPEN = 'calwatch.finding.state : "open"';
const ISSUED = 'event.action : "license.issued"';
const RELEASED = 'event.action : "license.returned" or event.action : "license.revoked"';
const KEYPACK = 'event.action : "keypack.inventory"';
const LEAKING = 'calwatch.context.classification : * and not calwatch.context.classification : "healthy"';
const PING_PONG = 'calwatch.context.classification : "cloned-image"';

function metricPanel(key: string, title: string, grid: Grid, dataViewId: string, spec: ColumnSpec | ColumnSpec[], query = ''): Panel {
  const layerId = stableId(`${key}/layer`);
  const columns = Array.isArray(spec) ? spec : [spec];
  const main = columns[columns.length - 1]!;
  return {
    kind: 'lens',
    key,
    title,
    grid,
    attributes: buildLensAttributes(title, '', 'lnsMetric', [{ layerId, dataViewId, columns }], metricVisualization(layerId, main.id), query),
  };
}

function buildPanels(ids: SavedObjectIds): Panel[] {
  const panels: Panel[] = [];
  const col = (key: string, name: string): string => stableId(`${key}/${name}`);

  panels.push(metricPanel('open-findings', 'Open findings', { x: 0, y: 0, w: 12, h: 6 }, ids.findingsDataView, count(col('open-findings', 'count'), 'Open findings'), OPEN));
  panels.push(
    metricPanel(
      'reclaimable',
      'Reclaimable CALs',
      { x: 12, y: 0, w: 12, h: 6 },
      ids.findingsDataView,
      metric(col('reclaimable', 'sum'), 'sum', 'calwatch.finding.reclaimable_cals', 'Reclaimable CALs'),
      OPEN,
    ),
  );
  panels.push(
    metricPanel(
      'leaked',
      'Leaked CALs',
      { x: 24, y: 0, w: 12, h: 6 },
      ids.findingsDataView,
      metric(col('leaked', 'sum'), 'sum', 'calwatch.finding.leaked_cals', 'Leaked CALs'),
      OPEN,
    ),
  );
  // Days until the pool is empty at the range's net issue rate (negative: the pool grows).
  const exhaustionText = `last_value(calwatch.keypack.available_licenses, kql='${KEYPACK}') / ((count(kql='${ISSUED}') - count(kql='${RELEASED}')) / (time_range() / 86400000))`;
  panels.push(
    metricPanel(
      'exhaustion',
      'Days to pool exhaustion',
      { x: 36, y: 0, w: 12, h: 6 },
      ids.enrichedDataView,
      formula(
        col('exhaustion', 'formula'),
        'Days to pool exhaustion',
        exhaustionText,
        [
          (id) => lastValue(id, 'calwatch.keypack.available_licenses', 'available', 'number', kql(KEYPACK)),
          (id) => count(id, 'issued', kql(ISSUED)),
          (id) => count(id, 'released', kql(RELEASED)),
          (id) => timeRange(id),
        ],
        ([available, issued, released, range]) => ({
          fn: 'divide',
          args: [available!, { fn: 'divide', args: [{ fn: 'subtract', args: [issued!, released!] }, { fn: 'divide', args: [range!, 86_400_000] }] }],
        }),
        { id: 'number', params: { decimals: 1 } },
      ),
    ),
  );

  {
    const key = 'issued-per-hour';
    const layerId = stableId(`${key}/layer`);
    const x = dateHistogram(col(key, 'x'), '1h');
    const issued = count(col(key, 'issued'), 'CALs issued', kql(ISSUED));
    const available = metric(col(key, 'available'), 'min', 'calwatch.keypack.available_licenses', 'CALs available in the pool', kql(KEYPACK));
    const total = metric(col(key, 'total'), 'max', 'calwatch.keypack.total_licenses', 'CALs installed', kql(KEYPACK));
    panels.push({
      kind: 'lens',
      key,
      title: 'CALs issued per hour against the pool',
      grid: { x: 0, y: 6, w: 32, h: 12 },
      attributes: buildLensAttributes(
        'CALs issued per hour against the pool',
        'Bars: per-device CALs issued each hour. Lines (right axis): the smallest available count and the installed count the license servers reported.',
        'lnsXY',
        [{ layerId, dataViewId: ids.enrichedDataView, columns: [x, issued, available, total] }],
        xyVisualization('bar', [
          { layerId, seriesType: 'bar', xAccessor: x.id, accessors: [issued.id, available.id, total.id], rightAxis: [available.id, total.id] },
        ]),
      ),
    });
  }

  {
    const key = 'findings-by-kind';
    const layerId = stableId(`${key}/layer`);
    const n = count(col(key, 'count'), 'Findings');
    const kind = terms(col(key, 'kind'), 'calwatch.finding.kind', 'Kind', n.id, 6);
    const severity = terms(col(key, 'severity'), 'calwatch.finding.severity', 'Severity', n.id, 5);
    panels.push({
      kind: 'lens',
      key,
      title: 'Open findings by kind and severity',
      grid: { x: 32, y: 6, w: 16, h: 12 },
      attributes: buildLensAttributes(
        'Open findings by kind and severity',
        '',
        'lnsXY',
        [{ layerId, dataViewId: ids.findingsDataView, columns: [kind, severity, n] }],
        xyVisualization('bar_horizontal_stacked', [
          { layerId, seriesType: 'bar_horizontal_stacked', xAccessor: kind.id, accessors: [n.id], splitAccessor: severity.id },
        ]),
        OPEN,
      ),
    });
  }

  {
    const key = 'top-hwids';
    const layerId = stableId(`${key}/layer`);
    const computers = metric(col(key, 'computers'), 'unique_count', 'host.name', 'Computers');
    const hwid = terms(col(key, 'hwid'), 'host.id', 'HWID', computers.id, 15);
    const licenses = metric(col(key, 'licenses'), 'unique_count', 'calwatch.license.id', 'CALs');
    const events = count(col(key, 'events'), 'Events');
    panels.push({
      kind: 'lens',
      key,
      title: 'Top HWIDs (leaking patterns)',
      grid: { x: 0, y: 18, w: 24, h: 12 },
      attributes: buildLensAttributes(
        'Top HWIDs (leaking patterns)',
        'HWIDs in events the processor classified as a leak pattern, by how many computer names they appeared under.',
        'lnsDatatable',
        [{ layerId, dataViewId: ids.enrichedDataView, columns: [hwid, computers, licenses, events] }],
        datatableVisualization(layerId, [hwid.id, computers.id, licenses.id, events.id]),
        LEAKING,
      ),
    });
  }

  {
    const key = 'top-computers';
    const layerId = stableId(`${key}/layer`);
    const hwids = metric(col(key, 'hwids'), 'unique_count', 'host.id', 'HWIDs');
    const computer = terms(col(key, 'computer'), 'host.name', 'Computer', hwids.id, 15);
    const licenses = metric(col(key, 'licenses'), 'unique_count', 'calwatch.license.id', 'CALs');
    const events = count(col(key, 'events'), 'Events');
    panels.push({
      kind: 'lens',
      key,
      title: 'Top computers (leaking patterns)',
      grid: { x: 24, y: 18, w: 24, h: 12 },
      attributes: buildLensAttributes(
        'Top computers (leaking patterns)',
        'Computer names in events classified as a leak pattern, by how many HWIDs they presented.',
        'lnsDatatable',
        [{ layerId, dataViewId: ids.enrichedDataView, columns: [computer, hwids, licenses, events] }],
        datatableVisualization(layerId, [computer.id, hwids.id, licenses.id, events.id]),
        LEAKING,
      ),
    });
  }

  {
    const key = 'ping-pong';
    const layerId = stableId(`${key}/layer`);
    const x = dateHistogram(col(key, 'x'));
    const n = count(col(key, 'count'), 'Events');
    const name = terms(col(key, 'name'), 'host.name', 'Computer', n.id, 10);
    panels.push({
      kind: 'lens',
      key,
      title: 'Cloned-image ping-pong timeline',
      grid: { x: 0, y: 30, w: 24, h: 12 },
      attributes: buildLensAttributes(
        'Cloned-image ping-pong timeline',
        'Events of HWIDs shared by cloned images: the computer names take turns holding the CAL.',
        'lnsXY',
        [{ layerId, dataViewId: ids.enrichedDataView, columns: [x, name, n] }],
        xyVisualization('bar_stacked', [{ layerId, seriesType: 'bar_stacked', xAccessor: x.id, accessors: [n.id], splitAccessor: name.id }]),
        PING_PONG,
      ),
    });
  }
  panels.push({ kind: 'search', key: 'ping-pong-events', title: 'Ping-pong events', grid: { x: 24, y: 30, w: 24, h: 12 }, searchId: ids.pingPongSearch });

  {
    const key = 'burn-down';
    const layerId = stableId(`${key}/layer`);
    const x = dateHistogram(col(key, 'x'));
    const available = metric(col(key, 'available'), 'min', 'calwatch.keypack.available_licenses', 'Available CALs');
    const product = terms(col(key, 'product'), 'calwatch.keypack.product_version', 'Product', available.id, 10);
    panels.push({
      kind: 'lens',
      key,
      title: 'Pool burn-down',
      grid: { x: 0, y: 42, w: 24, h: 12 },
      attributes: buildLensAttributes(
        'Pool burn-down',
        'Available per-device CALs per product as the key-pack inventory reported them; see "Days to pool exhaustion" for the projection.',
        'lnsXY',
        [{ layerId, dataViewId: ids.enrichedDataView, columns: [x, product, available] }],
        xyVisualization('line', [{ layerId, seriesType: 'line', xAccessor: x.id, accessors: [available.id], splitAccessor: product.id }]),
        KEYPACK,
      ),
    });
  }

  {
    const key = 'reclaimable-table';
    const layerId = stableId(`${key}/layer`);
    const reclaimable = metric(col(key, 'reclaimable'), 'max', 'calwatch.finding.reclaimable_cals', 'Reclaimable CALs');
    const finding = terms(col(key, 'finding'), 'calwatch.finding.id', 'Finding', reclaimable.id, 25);
    const kind = terms(col(key, 'kind'), 'calwatch.finding.kind', 'Kind', reclaimable.id, 1);
    const batches = metric(col(key, 'batches'), 'max', 'calwatch.finding.revoke_batch_count', 'Revoke batches');
    const next = lastValue(col(key, 'next'), 'calwatch.finding.next_revoke_at', 'Next revoke allowed', 'date');
    panels.push({
      kind: 'lens',
      key,
      title: 'Reclaimable CALs by finding',
      grid: { x: 24, y: 42, w: 24, h: 12 },
      attributes: buildLensAttributes(
        'Reclaimable CALs by finding',
        'Open findings holding CALs that can be revoked, with the number of revoke batches the 20%-per-version cap requires.',
        'lnsDatatable',
        [{ layerId, dataViewId: ids.findingsDataView, columns: [finding, kind, reclaimable, batches, next] }],
        datatableVisualization(layerId, [finding.id, kind.id, reclaimable.id, batches.id, next.id]),
        `${OPEN} and calwatch.finding.reclaimable_cals > 0`,
      ),
    });
  }
  panels.push({ kind: 'search', key: 'revoke-plan', title: 'Revoke plan', grid: { x: 0, y: 54, w: 48, h: 14 }, searchId: ids.revokePlanSearch });
  panels.push({ kind: 'search', key: 'revoke-table', title: 'Revoke table (every planned CAL)', grid: { x: 0, y: 68, w: 48, h: 16 }, searchId: ids.revokeTableSearch });
  return panels;
}

function buildDashboard(ids: SavedObjectIds): SavedObject {
  const panels = buildPanels(ids);
  const references: SavedObject['references'] = [];
  const panelsJson = panels.map((panel) => {
    const panelIndex = stableId(`panel/${panel.key}`);
    const gridData = { ...panel.grid, i: panelIndex };
    if (panel.kind === 'search') {
      const refName = `panel_${panelIndex}`;
      references.push({ type: 'search', id: panel.searchId, name: `${panelIndex}:${refName}` });
      return { version: KIBANA_FORMAT.panel, type: 'search', gridData, panelIndex, embeddableConfig: { enhancements: {} }, panelRefName: refName, title: panel.title };
    }
    for (const ref of panel.attributes.references) references.push({ ...ref, name: `${panelIndex}:${ref.name}` });
    return {
      version: KIBANA_FORMAT.panel,
      type: 'lens',
      gridData,
      panelIndex,
      embeddableConfig: { attributes: panel.attributes, enhancements: {} },
      title: panel.title,
    };
  });
  return {
    type: 'dashboard',
    id: ids.dashboard,
    attributes: {
      title: 'calwatch: per-device CAL leakage',
      description:
        'Where Remote Desktop per-device CALs leak: issuance against the pool, open findings, the HWIDs and computers involved, ' +
        'cloned-image ping-pong, reclaimable CALs with their revoke plan, and the pool burn-down.',
      panelsJSON: JSON.stringify(panelsJson),
      optionsJSON: JSON.stringify({ useMargins: true, syncColors: false, syncCursor: true, syncTooltips: false, hidePanelTitles: false }),
      timeRestore: true,
      timeFrom: 'now-7d',
      timeTo: 'now',
      refreshInterval: { pause: false, value: 60_000 },
      version: 1,
      kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ query: kql(''), filter: [] }) },
    },
    references,
    coreMigrationVersion: KIBANA_FORMAT.core,
    typeMigrationVersion: KIBANA_FORMAT.dashboard,
    managed: false,
  };
}

/** Every saved object, dependencies first (Kibana resolves references within one import). */
export function buildSavedObjects(names: IndexNames): SavedObject[] {
  const ids = buildSavedObjectIds(names);
  return [
    dataView(ids.enrichedDataView, names.enrichedAlias, 'calwatch enriched events'),
    dataView(ids.findingsDataView, names.findingsAlias, 'calwatch findings'),
    dataView(ids.revocationsDataView, names.revocationsAlias, 'calwatch revocations', null),
    savedSearch(
      ids.pingPongSearch,
      'calwatch: cloned-image ping-pong events',
      'Licensing events of HWIDs shared by several computers (cloned images), newest first.',
      ids.enrichedDataView,
      PING_PONG,
      ['host.id', 'host.name', 'event.action', 'calwatch.license.id', 'calwatch.license.status', 'calwatch.license_server'],
    ),
    savedSearch(
      ids.revokePlanSearch,
      'calwatch: revoke plan',
      'Open findings with reclaimable CALs: how many CALs each batch revokes and when it is allowed (every license id: the revoke table).',
      ids.findingsDataView,
      `${OPEN} and calwatch.finding.reclaimable_cals > 0`,
      [
        'calwatch.finding.kind',
        'calwatch.finding.severity',
        // cause-stopped: the leak ended, its CALs are still to revoke.
        'calwatch.finding.status',
        'calwatch.license_server',
        'calwatch.finding.computer_count',
        'calwatch.finding.reclaimable_cals',
        'calwatch.finding.revoke_plan.not_before',
        'calwatch.finding.revoke_plan.license_count',
        'calwatch.finding.revoke_plan.product',
        'calwatch.finding.summary',
      ],
    ),
    savedSearch(
      ids.revokeTableSearch,
      'calwatch: revoke table',
      'Every CAL the revoke plan holds, one row per license, soonest allowed first: revoke in RD Licensing Manager from not_before on.',
      ids.revocationsDataView,
      '',
      [
        'calwatch.license_server',
        'calwatch.revocation.license_id',
        'calwatch.revocation.product_version',
        'calwatch.revocation.not_before',
        'calwatch.revocation.batch',
        'calwatch.revocation.expires_at',
        'calwatch.revocation.kind',
        'calwatch.revocation.finding_id',
      ],
      [
        ['calwatch.revocation.not_before', 'asc'],
        ['calwatch.revocation.license_id', 'asc'],
      ],
    ),
    buildDashboard(ids),
  ];
}

/** The import file: one object per line, in dependency order. */
export function toNdjson(objects: readonly SavedObject[]): string {
  return objects.map((object) => JSON.stringify(object)).join('\n') + '\n';
}

/** The NDJSON committed under deploy/kibana/ for the default prefix. */
export const SAVED_OBJECTS_FILE = 'deploy/kibana/calwatch-saved-objects.ndjson';
