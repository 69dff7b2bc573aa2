import { createHash } from 'node:crypto';
import type { ElasticsearchClient } from '@calwatch/elasticsearch';
import type { Logger } from '@calwatch/runtime';
import { INDEXER_ERRORS } from './errors';
import { TEMPLATE_VERSION, type IndexNames } from './index-names';
import {
  buildEnrichedMappings,
  buildFindingsMappings,
  buildRevocationsMappings,
  buildTemplateSet,
  DEFAULT_FINDINGS_REFRESH_INTERVAL,
  DEFAULT_REFRESH_INTERVAL,
  type ComponentTemplateBody,
  type IndexLayoutSettings,
  type IndexTemplateBody,
  type Mappings,
} from './mappings';

/**
 * `calwatch es-setup`: installs calwatch's component and index templates, the findings
 * index and the current enriched index with their aliases. Idempotent (a second run
 * changes nothing), versioned (template `version` + content hash in `_meta`), upgradable
 * (a newer release replaces older templates and adds new fields to existing indices in
 * place) and never downgrades.
 */

export type SetupAction = 'created' | 'updated' | 'unchanged';

export interface ElasticsearchCapabilities {
  version: string;
  buildFlavor: string | null;
  modules: string[];
  plugins: string[];
  /** Features calwatch could use when present; absent ones degrade as `degraded` says. */
  ingestPipelines: boolean;
  painless: boolean;
  lifecycleManagement: boolean;
}

export interface SetupReport {
  capabilities: ElasticsearchCapabilities;
  /** What calwatch does without a feature the node lacks. */
  degraded: string[];
  templates: Array<{ kind: 'component' | 'index'; name: string; action: SetupAction; version: number }>;
  indices: Array<{ name: string; action: 'created' | 'exists' | 'mapping-updated' }>;
  /** True when nothing was written to the cluster. */
  unchanged: boolean;
}

export interface SetupOptions {
  client: ElasticsearchClient;
  names: IndexNames;
  layout?: Partial<IndexLayoutSettings>;
  logger?: Logger;
  /** For the "current" enriched index; defaults to now. */
  now?: Date;
}

type PutMappingRequest = Parameters<ElasticsearchClient['indices']['putMapping']>[0];
type PutComponentRequest = Parameters<ElasticsearchClient['cluster']['putComponentTemplate']>[0];
type PutIndexTemplateRequest = Parameters<ElasticsearchClient['indices']['putIndexTemplate']>[0];

function statusOf(error: unknown): number | undefined {
  return (error as { meta?: { statusCode?: number } } | null)?.meta?.statusCode;
}

function errorTypeOf(error: unknown): string | undefined {
  return (error as { meta?: { body?: { error?: { type?: string } } } } | null)?.meta?.body?.error?.type;
}

function describe(error: unknown): string {
  const reason = (error as { meta?: { body?: { error?: { reason?: string } } } } | null)?.meta?.body?.error?.reason;
  return reason ?? (error instanceof Error ? error.message : String(error));
}

function failed(step: string, error: unknown): Error {
  return INDEXER_ERRORS.create('INDEXER_SETUP_FAILED', `${step}: ${describe(error)}`, { cause: error, context: { step } });
}

/** Stable JSON (sorted keys) for hashing a body. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The hash setup stores in `_meta.content_hash` and compares on the next run. */
export function hashTemplateBody(body: ComponentTemplateBody | IndexTemplateBody): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex').slice(0, 16);
}

interface Installed {
  version: number | undefined;
  hash: string | undefined;
}

/** Decides what to do with one template from what is installed. */
export function decideTemplateAction(installed: Installed | undefined, version: number, hash: string): SetupAction | 'newer-installed' {
  if (installed === undefined) return 'created';
  if (installed.version !== undefined && installed.version > version) return 'newer-installed';
  if (installed.version === version && installed.hash === hash) return 'unchanged';
  return 'updated';
}

export async function probeCapabilities(client: ElasticsearchClient): Promise<ElasticsearchCapabilities> {
  let nodes;
  try {
    // Not `GET /`: the minimal distribution has no rest-root module to answer it.
    nodes = await client.nodes.info({ metric: 'plugins' });
  } catch (error) {
    throw failed('read node information', error);
  }
  const modules = new Set<string>();
  const plugins = new Set<string>();
  const versions = new Set<string>();
  let buildFlavor: string | null = null;
  for (const node of Object.values(nodes.nodes)) {
    versions.add(node.version);
    buildFlavor ??= (node as { build_flavor?: string }).build_flavor ?? null;
    for (const m of node.modules ?? []) modules.add(m.name);
    for (const p of node.plugins ?? []) plugins.add(p.name);
  }
  const has = (name: string): boolean => modules.has(name) || plugins.has(name);
  return {
    version: [...versions].sort().join(', '),
    buildFlavor,
    modules: [...modules].sort(),
    plugins: [...plugins].sort(),
    ingestPipelines: has('ingest-common'),
    painless: has('lang-painless'),
    lifecycleManagement: has('x-pack-ilm'),
  };
}

/** What calwatch does instead, for each feature the node lacks (and what it never needs). */
export function describeDegradations(capabilities: ElasticsearchCapabilities): string[] {
  const degraded: string[] = [];
  if (!capabilities.lifecycleManagement) {
    degraded.push(
      'no index lifecycle management: enriched indices are not deleted automatically; delete old ones by name (one index per ' +
        'day or month) or run on a distribution with ILM and attach a policy to the calwatch settings template yourself',
    );
  }
  if (!capabilities.ingestPipelines) {
    degraded.push('no ingest pipelines: documents are built complete by the indexer, event.ingested included (calwatch never needs pipelines)');
  }
  if (!capabilities.painless) {
    degraded.push('no painless: finding updates are ordered with external_gte versions, not scripted upserts (calwatch never needs scripts)');
  }
  return degraded;
}

async function getComponent(client: ElasticsearchClient, name: string): Promise<Installed | undefined> {
  try {
    const response = await client.cluster.getComponentTemplate({ name });
    const found = response.component_templates.find((t) => t.name === name);
    if (found === undefined) return undefined;
    const meta = found.component_template._meta as Record<string, unknown> | undefined;
    return { version: found.component_template.version, hash: typeof meta?.['content_hash'] === 'string' ? meta['content_hash'] : undefined };
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw failed(`read component template ${name}`, error);
  }
}

async function getIndexTemplate(client: ElasticsearchClient, name: string): Promise<Installed | undefined> {
  try {
    const response = await client.indices.getIndexTemplate({ name });
    const found = response.index_templates.find((t) => t.name === name);
    if (found === undefined) return undefined;
    const meta = found.index_template._meta as Record<string, unknown> | undefined;
    return { version: found.index_template.version, hash: typeof meta?.['content_hash'] === 'string' ? meta['content_hash'] : undefined };
  } catch (error) {
    if (statusOf(error) === 404) return undefined;
    throw failed(`read index template ${name}`, error);
  }
}

function withHash<T extends ComponentTemplateBody | IndexTemplateBody>(body: T): { body: T; hash: string } {
  const hash = hashTemplateBody(body);
  return { body: { ...body, _meta: { ...body._meta, content_hash: hash } }, hash };
}

function resolveLayout(layout: Partial<IndexLayoutSettings> | undefined): IndexLayoutSettings {
  return {
    shards: layout?.shards ?? 1,
    replicas: layout?.replicas ?? 0,
    refreshInterval: layout?.refreshInterval ?? DEFAULT_REFRESH_INTERVAL,
    findingsRefreshInterval: layout?.findingsRefreshInterval ?? DEFAULT_FINDINGS_REFRESH_INTERVAL,
  };
}

async function createIndexIfMissing(client: ElasticsearchClient, index: string): Promise<'created' | 'exists'> {
  try {
    if (await client.indices.exists({ index })) return 'exists';
    // The matching index template supplies settings, mappings and the read alias.
    await client.indices.create({ index });
    return 'created';
  } catch (error) {
    if (errorTypeOf(error) === 'resource_already_exists_exception') return 'exists';
    throw failed(`create index ${index}`, error);
  }
}

async function listIndices(client: ElasticsearchClient, pattern: string): Promise<string[]> {
  try {
    const response = await client.indices.get({ index: pattern, expand_wildcards: 'open', allow_no_indices: true, ignore_unavailable: true });
    return Object.keys(response).sort();
  } catch (error) {
    if (statusOf(error) === 404) return [];
    throw failed(`list indices ${pattern}`, error);
  }
}

async function upgradeMapping(client: ElasticsearchClient, index: string, mappings: Mappings): Promise<void> {
  try {
    await client.indices.putMapping({ index, dynamic: mappings.dynamic, properties: mappings.properties } as PutMappingRequest);
  } catch (error) {
    if (statusOf(error) === 400) {
      throw INDEXER_ERRORS.create('INDEXER_MAPPING_UPGRADE_CONFLICT', `index ${index} cannot take the new mapping in place: ${describe(error)}`, {
        cause: error,
        context: { index },
      });
    }
    throw failed(`update mapping of ${index}`, error);
  }
}

async function setRefreshInterval(client: ElasticsearchClient, index: string, interval: string): Promise<void> {
  try {
    await client.indices.putSettings({ index, settings: { index: { refresh_interval: interval } } });
  } catch (error) {
    throw failed(`set refresh interval of ${index}`, error);
  }
}

/**
 * Installs or upgrades everything calwatch needs in Elasticsearch;
 * `calwatch setup` calls it after creating the Kafka topics.
 */
export async function installElasticsearchSetup(options: SetupOptions): Promise<SetupReport> {
  const { client, names, logger } = options;
  const layout = resolveLayout(options.layout);
  const capabilities = await probeCapabilities(client);
  const degraded = describeDegradations(capabilities);
  const set = buildTemplateSet(names, layout);
  const report: SetupReport = { capabilities, degraded, templates: [], indices: [], unchanged: true };

  // Decide everything before writing anything: a newer install aborts the whole run.
  const componentPlans = [];
  for (const { name, body } of set.components) {
    const { body: hashed, hash } = withHash(body);
    const action = decideTemplateAction(await getComponent(client, name), body.version, hash);
    componentPlans.push({ name, body: hashed, action });
  }
  const indexPlans = [];
  for (const { name, body } of set.indexTemplates) {
    const { body: hashed, hash } = withHash(body);
    const action = decideTemplateAction(await getIndexTemplate(client, name), body.version, hash);
    indexPlans.push({ name, body: hashed, action });
  }
  const newer = [...componentPlans, ...indexPlans].filter((p) => p.action === 'newer-installed').map((p) => p.name);
  if (newer.length > 0) {
    throw INDEXER_ERRORS.create('INDEXER_SETUP_NEWER', `installed templates are newer than this release (${TEMPLATE_VERSION}): ${newer.join(', ')}`, {
      context: { templates: newer },
    });
  }

  // Components first: an index template may only reference components that exist.
  for (const plan of componentPlans) {
    if (plan.action !== 'unchanged') {
      try {
        await client.cluster.putComponentTemplate({ name: plan.name, ...plan.body } as PutComponentRequest);
      } catch (error) {
        throw failed(`put component template ${plan.name}`, error);
      }
      report.unchanged = false;
      logger?.info({ template: plan.name, action: plan.action }, 'component template installed');
    }
    report.templates.push({ kind: 'component', name: plan.name, action: plan.action as SetupAction, version: plan.body.version });
  }
  for (const plan of indexPlans) {
    if (plan.action !== 'unchanged') {
      try {
        await client.indices.putIndexTemplate({ name: plan.name, ...plan.body } as PutIndexTemplateRequest);
      } catch (error) {
        throw failed(`put index template ${plan.name}`, error);
      }
      report.unchanged = false;
      logger?.info({ template: plan.name, action: plan.action }, 'index template installed');
    }
    report.templates.push({ kind: 'index', name: plan.name, action: plan.action as SetupAction, version: plan.body.version });
  }

  // Templates apply to new indices only: bring existing ones of this generation up to date.
  if (!report.unchanged) {
    const targets: Array<[string[], Mappings]> = [
      [await listIndices(client, names.enrichedPattern), buildEnrichedMappings()],
      [await listIndices(client, names.findingsIndex), buildFindingsMappings()],
      [await listIndices(client, names.revocationsIndex), buildRevocationsMappings()],
    ];
    for (const [indices, mappings] of targets) {
      for (const index of indices) {
        await upgradeMapping(client, index, mappings);
        report.indices.push({ name: index, action: 'mapping-updated' });
      }
    }
    for (const index of [...targets[1]![0], ...targets[2]![0]]) await setRefreshInterval(client, index, layout.findingsRefreshInterval);
  }

  const wanted = [names.findingsIndex, names.revocationsIndex, names.enrichedIndexFor((options.now ?? new Date()).toISOString())];
  for (const index of wanted) {
    const action = await createIndexIfMissing(client, index);
    if (action === 'created') report.unchanged = false;
    if (!report.indices.some((i) => i.name === index)) report.indices.push({ name: index, action });
  }
  return report;
}

/**
 * What the indexer checks before consuming: writing without the templates would create
 * indices with dynamic mappings. Throws INDEXER_SETUP_MISSING when they are absent or older.
 */
export async function checkElasticsearchSetup(client: ElasticsearchClient, names: IndexNames): Promise<{ installedVersion: number }> {
  const missing: string[] = [];
  let lowest = Number.POSITIVE_INFINITY;
  for (const name of [names.templates.enriched, names.templates.findings, names.templates.revocations]) {
    const installed = await getIndexTemplate(client, name);
    if (installed === undefined || installed.version === undefined || installed.version < TEMPLATE_VERSION) missing.push(name);
    else lowest = Math.min(lowest, installed.version);
  }
  if (missing.length > 0) {
    throw INDEXER_ERRORS.create(
      'INDEXER_SETUP_MISSING',
      `index templates missing or older than ${TEMPLATE_VERSION}: ${missing.join(', ')}; run \`calwatch es-setup\``,
      { context: { templates: missing } },
    );
  }
  return { installedVersion: lowest };
}
