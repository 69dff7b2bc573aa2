import { INDEX_SCHEMA, TEMPLATE_VERSION, type IndexNames } from './index-names';

/**
 * The index templates calwatch owns. Only core field types and features are used
 * (keyword, text, date, long, integer, short, boolean, object): the minimal distribution
 * has no x-pack mappers (flattened, wildcard, constant_keyword), no ingest pipelines, no
 * painless and no data streams. `dynamic: strict` makes a document with a field the
 * mapping does not know a rejection (dead-lettered), never a new invented field.
 */

export type FieldMapping =
  | { type: 'keyword'; ignore_above?: number }
  | { type: 'text' }
  | { type: 'date' }
  | { type: 'long' | 'integer' | 'short' | 'byte' }
  | { type: 'boolean' }
  | { type: 'object'; enabled: false }
  | { type?: 'object'; dynamic?: 'strict' | false; properties: Record<string, FieldMapping> };

export type Properties = Record<string, FieldMapping>;

export interface Mappings {
  dynamic: 'strict';
  _meta?: Record<string, unknown>;
  properties: Properties;
}

// Client-supplied names and ids can be arbitrarily long: past this they are kept in
// _source but not indexed, instead of failing the document with an "immense term".
const kw: FieldMapping = { type: 'keyword', ignore_above: 1024 };
const date: FieldMapping = { type: 'date' };
const long: FieldMapping = { type: 'long' };
const integer: FieldMapping = { type: 'integer' };
const short: FieldMapping = { type: 'short' };
const text: FieldMapping = { type: 'text' };
const obj = (properties: Properties): FieldMapping => ({ properties });
/** Kept in _source for people to read, not indexed (free-form keys would otherwise grow the mapping). */
const opaque: FieldMapping = { type: 'object', enabled: false };

/** ECS fields both indices carry, and the calwatch fields every document has. */
export function buildCommonProperties(): Properties {
  return {
    '@timestamp': date,
    event: obj({
      id: kw,
      kind: kw,
      category: kw,
      type: kw,
      action: kw,
      code: kw,
      provider: kw,
      dataset: kw,
      module: kw,
      severity: long,
      created: date,
      ingested: date,
      start: date,
      end: date,
    }),
    host: obj({ name: kw, id: kw }),
    user: obj({ name: kw }),
    log: obj({ level: kw }),
    related: obj({ hosts: kw, user: kw }),
    calwatch: obj({
      schema_version: short,
      license_server: kw,
    }),
  };
}

export function buildEnrichedProperties(): Properties {
  return {
    calwatch: obj({
      source: obj({ kind: kw, ref: kw }),
      hwid: kw,
      hwid_raw: kw,
      computer: kw,
      computer_raw: kw,
      license: obj({
        id: long,
        keypack_id: long,
        status: kw,
        previous_status: kw,
        issue_date: date,
        expiration_date: date,
        previous_expiration_date: date,
        return_reason: kw,
      }),
      keypack: obj({
        id: long,
        type: integer,
        product_version: kw,
        product_version_id: integer,
        description: kw,
        type_and_model: kw,
        total_licenses: long,
        available_licenses: long,
        issued_licenses: long,
        expiration_date: date,
      }),
      service: obj({
        code: integer,
        channel: kw,
        provider: kw,
        record_id: kw,
        host: kw,
        level: kw,
        meaning: kw,
        product: kw,
        remaining_cals: long,
        revoked_count: long,
        installed_count: long,
        next_revoke_allowed_at: date,
        client: kw,
        session_host: kw,
        params: opaque,
      }),
      client_store: obj({ hwids: kw, hwid_count: integer }),
      context: obj({
        classification: kw,
        finding_ids: kw,
        hwid_license_ids: long,
        hwid_license_count: integer,
        hwid_computers: kw,
        hwid_computer_count: integer,
        computer_hwids: kw,
        computer_hwid_count: integer,
      }),
    }),
  };
}

export function buildFindingsProperties(): Properties {
  return {
    calwatch: obj({
      finding: obj({
        id: kw,
        kind: kw,
        state: kw,
        status: kw,
        severity: kw,
        product_version: kw,
        hwids: kw,
        hwid_count: integer,
        computers: kw,
        computer_count: integer,
        license_ids: long,
        license_count: integer,
        leaked_cals: long,
        reclaimable_license_ids: long,
        reclaimable_cals: integer,
        revoke_plan: obj({ not_before: date, product: kw, license_ids: long, license_count: integer }),
        revoke_batch_count: integer,
        next_revoke_at: date,
        first_seen: date,
        last_seen: date,
        updated_at: date,
        revision: long,
        summary: text,
        remediation: text,
        timeline: opaque,
        timeline_count: integer,
      }),
    }),
  };
}

/** The revoke table: one document per planned CAL revocation (id `server|license id`). */
export function buildRevocationsProperties(): Properties {
  return {
    calwatch: obj({
      revocation: obj({
        license_id: long,
        finding_id: kw,
        kind: kw,
        key_pack_id: long,
        product_version: kw,
        batch: integer,
        not_before: date,
        expires_at: date,
        updated_at: date,
      }),
    }),
  };
}

/** Deep merge of property trees, as Elasticsearch merges component templates. */
export function mergeProperties(...trees: Properties[]): Properties {
  const merged: Properties = {};
  for (const tree of trees) {
    for (const [name, field] of Object.entries(tree)) {
      const existing = merged[name];
      if (existing !== undefined && 'properties' in existing && 'properties' in field) {
        merged[name] = { ...existing, ...field, properties: mergeProperties(existing.properties, field.properties) };
      } else {
        merged[name] = field;
      }
    }
  }
  return merged;
}

/** The effective mapping of an enriched-events index: what documents must fit. */
export function buildEnrichedMappings(): Mappings {
  return { dynamic: 'strict', properties: mergeProperties(buildCommonProperties(), buildEnrichedProperties()) };
}

export function buildFindingsMappings(): Mappings {
  return { dynamic: 'strict', properties: mergeProperties(buildCommonProperties(), buildFindingsProperties()) };
}

export function buildRevocationsMappings(): Mappings {
  return { dynamic: 'strict', properties: mergeProperties(buildCommonProperties(), buildRevocationsProperties()) };
}

/** Leaf field paths and their types, e.g. `calwatch.finding.kind` → `keyword`. */
export function listMappedFields(properties: Properties, prefix = ''): Map<string, string> {
  const fields = new Map<string, string>();
  for (const [name, field] of Object.entries(properties)) {
    const path = prefix === '' ? name : `${prefix}.${name}`;
    if ('properties' in field) {
      for (const [inner, type] of listMappedFields(field.properties, path)) fields.set(inner, type);
    } else {
      fields.set(path, field.type ?? 'object');
    }
  }
  return fields;
}

export interface IndexLayoutSettings {
  shards: number;
  replicas: number;
  /** Restored by `restoreRefresh` after a bulk load. */
  refreshInterval: string;
  /**
   * The findings and revocations indices: small, and what people act on, so they become
   * searchable sooner than the high-volume enriched indices (a refresh of a small index is cheap).
   */
  findingsRefreshInterval: string;
}

export const DEFAULT_REFRESH_INTERVAL = '1s';
export const DEFAULT_FINDINGS_REFRESH_INTERVAL = '250ms';

export interface ComponentTemplateBody {
  version: number;
  _meta: Record<string, unknown>;
  template: {
    settings?: Record<string, unknown>;
    mappings?: Mappings | { properties: Properties };
  };
}

export interface IndexTemplateBody {
  index_patterns: string[];
  composed_of: string[];
  priority: number;
  version: number;
  _meta: Record<string, unknown>;
  template: { settings?: Record<string, unknown>; aliases: Record<string, Record<string, never>> };
}

export interface TemplateSet {
  components: Array<{ name: string; body: ComponentTemplateBody }>;
  indexTemplates: Array<{ name: string; body: IndexTemplateBody }>;
}

/** Higher than any built-in template, so a stray overlap cannot win over ours. */
const TEMPLATE_PRIORITY = 500;

function meta(description: string): Record<string, unknown> {
  return {
    managed_by: 'calwatch',
    description,
    generation: INDEX_SCHEMA.generation,
    revision: INDEX_SCHEMA.revision,
  };
}

/** Everything setup installs, as request bodies. Pure: the same input gives the same bodies. */
export function buildTemplateSet(names: IndexNames, layout: IndexLayoutSettings): TemplateSet {
  const { templates } = names;
  const components = [
    {
      name: templates.settings,
      body: {
        version: TEMPLATE_VERSION,
        _meta: meta('calwatch index settings'),
        template: {
          settings: {
            'index.number_of_shards': layout.shards,
            'index.number_of_replicas': layout.replicas,
            'index.refresh_interval': layout.refreshInterval,
          },
        },
      },
    },
    {
      name: templates.commonMappings,
      body: {
        version: TEMPLATE_VERSION,
        _meta: meta('ECS and calwatch fields every calwatch document has'),
        template: {
          mappings: {
            dynamic: 'strict' as const,
            _meta: { calwatch: { generation: INDEX_SCHEMA.generation, revision: INDEX_SCHEMA.revision } },
            properties: buildCommonProperties(),
          },
        },
      },
    },
    {
      name: templates.enrichedMappings,
      body: { version: TEMPLATE_VERSION, _meta: meta('enriched licensing events'), template: { mappings: { properties: buildEnrichedProperties() } } },
    },
    {
      name: templates.findingsMappings,
      body: { version: TEMPLATE_VERSION, _meta: meta('leak findings, one document per finding'), template: { mappings: { properties: buildFindingsProperties() } } },
    },
    {
      name: templates.revocationsMappings,
      body: {
        version: TEMPLATE_VERSION,
        _meta: meta('planned CAL revocations, one document per license'),
        template: { mappings: { properties: buildRevocationsProperties() } },
      },
    },
  ];
  const indexTemplates = [
    {
      name: templates.enriched,
      body: {
        index_patterns: [names.enrichedPattern],
        composed_of: [templates.settings, templates.commonMappings, templates.enrichedMappings],
        priority: TEMPLATE_PRIORITY,
        version: TEMPLATE_VERSION,
        _meta: meta('time-based enriched-event indices behind the read alias'),
        template: { aliases: { [names.enrichedAlias]: {} } },
      },
    },
    {
      name: templates.findings,
      body: {
        index_patterns: [names.findingsIndex],
        composed_of: [templates.settings, templates.commonMappings, templates.findingsMappings],
        priority: TEMPLATE_PRIORITY,
        version: TEMPLATE_VERSION,
        _meta: meta('the findings index; documents are updated as findings change'),
        template: { settings: { 'index.refresh_interval': layout.findingsRefreshInterval }, aliases: { [names.findingsAlias]: {} } },
      },
    },
    {
      name: templates.revocations,
      body: {
        index_patterns: [names.revocationsIndex],
        composed_of: [templates.settings, templates.commonMappings, templates.revocationsMappings],
        priority: TEMPLATE_PRIORITY,
        version: TEMPLATE_VERSION,
        _meta: meta('the revoke table; a withdrawn revocation deletes its document'),
        template: { settings: { 'index.refresh_interval': layout.findingsRefreshInterval }, aliases: { [names.revocationsAlias]: {} } },
      },
    },
  ];
  return { components, indexTemplates };
}
