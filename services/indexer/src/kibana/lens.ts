import { createHash } from 'node:crypto';

/**
 * Builders for Kibana Lens state in the format Kibana 8.x persists (form-based datasource,
 * by-value dashboard panels), as in the saved objects Kibana itself ships. Pure: ids are
 * derived from seeds so the generated NDJSON is byte-for-byte stable.
 */

/** A UUID-shaped id derived from a seed (Kibana stores layer and column ids as UUIDs). */
export function stableId(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export interface KqlFilter {
  query: string;
  language: 'kuery';
}

export const kql = (query: string): KqlFilter => ({ query, language: 'kuery' });

export interface LensColumn {
  label: string;
  operationType: string;
  dataType: string;
  isBucketed: boolean;
  [key: string]: unknown;
}

export interface ColumnSpec {
  id: string;
  column: LensColumn;
}

export function dateHistogram(id: string, interval = 'auto', field = '@timestamp'): ColumnSpec {
  return {
    id,
    column: {
      label: field,
      dataType: 'date',
      operationType: 'date_histogram',
      sourceField: field,
      isBucketed: true,
      scale: 'interval',
      params: { interval, includeEmptyRows: true, dropPartials: false },
    },
  };
}

export function terms(id: string, field: string, label: string, orderBy: string, size = 10): ColumnSpec {
  return {
    id,
    column: {
      label,
      customLabel: true,
      dataType: 'string',
      operationType: 'terms',
      sourceField: field,
      isBucketed: true,
      scale: 'ordinal',
      params: {
        size,
        orderBy: { type: 'column', columnId: orderBy },
        orderDirection: 'desc',
        otherBucket: false,
        missingBucket: false,
        parentFormat: { id: 'terms' },
      },
    },
  };
}

export function count(id: string, label: string, filter?: KqlFilter): ColumnSpec {
  return {
    id,
    column: {
      label,
      customLabel: true,
      dataType: 'number',
      operationType: 'count',
      sourceField: '___records___',
      isBucketed: false,
      scale: 'ratio',
      params: { emptyAsNull: false },
      ...(filter === undefined ? {} : { filter }),
    },
  };
}

export type MetricOperation = 'sum' | 'max' | 'min' | 'average' | 'unique_count';

export function metric(id: string, operation: MetricOperation, field: string, label: string, filter?: KqlFilter): ColumnSpec {
  return {
    id,
    column: {
      label,
      customLabel: true,
      dataType: 'number',
      operationType: operation,
      sourceField: field,
      isBucketed: false,
      scale: 'ratio',
      params: operation === 'unique_count' ? {} : { emptyAsNull: true },
      ...(filter === undefined ? {} : { filter }),
    },
  };
}

export function lastValue(id: string, field: string, label: string, dataType: 'number' | 'date' | 'string', filter?: KqlFilter): ColumnSpec {
  return {
    id,
    column: {
      label,
      customLabel: true,
      dataType,
      operationType: 'last_value',
      sourceField: field,
      isBucketed: false,
      scale: dataType === 'string' ? 'ordinal' : 'ratio',
      params: { sortField: '@timestamp', showArrayValues: false },
      ...(filter === undefined ? {} : { filter }),
    },
  };
}

/** A formula's parts: Lens persists the formula text plus the columns it compiles to. */
export type MathNode = string | number | { fn: 'add' | 'subtract' | 'multiply' | 'divide'; args: [MathNode, MathNode] };

function toTinymath(node: MathNode): unknown {
  if (typeof node === 'string' || typeof node === 'number') return node;
  return { type: 'function', name: node.fn, args: node.args.map(toTinymath) };
}

/**
 * A formula column with its hidden parts (`<id>X0`, `<id>X1`, ...): `parts` are the
 * aggregations the text references in order, `math` combines them by part index.
 */
export function formula(
  id: string,
  label: string,
  text: string,
  parts: Array<(partId: string) => ColumnSpec>,
  math: (partIds: string[]) => MathNode,
  format?: Record<string, unknown>,
): ColumnSpec[] {
  const partIds = parts.map((_, i) => `${id}X${i}`);
  const specs: ColumnSpec[] = parts.map((build, i) => {
    const spec = build(partIds[i]!);
    return { id: spec.id, column: { ...spec.column, label: `Part of ${label}`, customLabel: true } };
  });
  const mathId = `${id}X${parts.length}`;
  const ast = toTinymath(math(partIds)) as Record<string, unknown>;
  specs.push({
    id: mathId,
    column: {
      label: `Part of ${label}`,
      customLabel: true,
      dataType: 'number',
      operationType: 'math',
      isBucketed: false,
      scale: 'ratio',
      params: { tinymathAst: { ...ast, location: { min: 0, max: text.length }, text } },
      references: partIds,
    },
  });
  specs.push({
    id,
    column: {
      label,
      customLabel: true,
      dataType: 'number',
      operationType: 'formula',
      isBucketed: false,
      scale: 'ratio',
      params: { formula: text, isFormulaBroken: false, ...(format === undefined ? {} : { format }) },
      references: [mathId],
    },
  });
  return specs;
}

/** `time_range()`: the length of the dashboard's time range in milliseconds. */
export function timeRange(id: string): ColumnSpec {
  return {
    id,
    column: { label: 'time_range()', dataType: 'number', operationType: 'time_range', isBucketed: false, scale: 'ratio', references: [] },
  };
}

export interface LensLayer {
  layerId: string;
  dataViewId: string;
  columns: ColumnSpec[];
}

export interface LensAttributes {
  title: string;
  description: string;
  visualizationType: 'lnsXY' | 'lnsMetric' | 'lnsDatatable';
  type: 'lens';
  references: Array<{ type: 'index-pattern'; id: string; name: string }>;
  state: {
    visualization: Record<string, unknown>;
    query: KqlFilter;
    filters: unknown[];
    datasourceStates: { formBased: { layers: Record<string, { columns: Record<string, LensColumn>; columnOrder: string[]; incompleteColumns: Record<string, never> }> } };
    internalReferences: unknown[];
    adHocDataViews: Record<string, never>;
  };
}

export function layerReferenceName(layerId: string): string {
  return `indexpattern-datasource-layer-${layerId}`;
}

export function buildLensAttributes(
  title: string,
  description: string,
  visualizationType: LensAttributes['visualizationType'],
  layers: LensLayer[],
  visualization: Record<string, unknown>,
  query = '',
): LensAttributes {
  const formLayers: LensAttributes['state']['datasourceStates']['formBased']['layers'] = {};
  for (const layer of layers) {
    const columns: Record<string, LensColumn> = {};
    for (const spec of layer.columns) columns[spec.id] = spec.column;
    formLayers[layer.layerId] = { columns, columnOrder: layer.columns.map((c) => c.id), incompleteColumns: {} };
  }
  return {
    title,
    description,
    visualizationType,
    type: 'lens',
    references: layers.map((layer) => ({ type: 'index-pattern', id: layer.dataViewId, name: layerReferenceName(layer.layerId) })),
    state: {
      visualization,
      query: kql(query),
      filters: [],
      datasourceStates: { formBased: { layers: formLayers } },
      internalReferences: [],
      adHocDataViews: {},
    },
  };
}

const XY_DEFAULTS = {
  legend: { isVisible: true, position: 'right', legendSize: 'auto' },
  valueLabels: 'hide',
  fittingFunction: 'None',
  axisTitlesVisibilitySettings: { x: true, yLeft: true, yRight: true },
  tickLabelsVisibilitySettings: { x: true, yLeft: true, yRight: true },
  gridlinesVisibilitySettings: { x: true, yLeft: true, yRight: true },
  yLeftExtent: { mode: 'full' },
  yRightExtent: { mode: 'full' },
};

export type SeriesType = 'bar' | 'bar_stacked' | 'bar_horizontal_stacked' | 'line' | 'area';

export interface XyLayerSpec {
  layerId: string;
  seriesType: SeriesType;
  xAccessor: string;
  accessors: string[];
  splitAccessor?: string;
  rightAxis?: string[];
}

export function xyVisualization(preferred: SeriesType, layers: XyLayerSpec[]): Record<string, unknown> {
  return {
    ...XY_DEFAULTS,
    preferredSeriesType: preferred,
    layers: layers.map((layer) => ({
      layerId: layer.layerId,
      layerType: 'data',
      seriesType: layer.seriesType,
      xAccessor: layer.xAccessor,
      accessors: layer.accessors,
      ...(layer.splitAccessor === undefined ? {} : { splitAccessor: layer.splitAccessor }),
      yConfig: layer.accessors.map((accessor) => ({ forAccessor: accessor, axisMode: layer.rightAxis?.includes(accessor) ? 'right' : 'left' })),
    })),
  };
}

export function metricVisualization(layerId: string, metricAccessor: string): Record<string, unknown> {
  return { layerId, layerType: 'data', metricAccessor };
}

export function datatableVisualization(layerId: string, columnIds: string[]): Record<string, unknown> {
  return { layerId, layerType: 'data', columns: columnIds.map((columnId) => ({ columnId })), rowHeight: 'single', rowHeightLines: 1 };
}
