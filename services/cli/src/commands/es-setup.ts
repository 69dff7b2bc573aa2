import { createElasticsearchClient } from '@calwatch/elasticsearch';
import { SHARED_ERRORS } from '@calwatch/model';
import { toElasticsearchConnection } from '@calwatch/runtime';
import {
  buildIndexNames,
  installElasticsearchSecurity,
  installElasticsearchSetup,
  loadEsSetupConfig,
  READER_ROLE,
  WRITER_ROLE,
  type CalwatchUser,
  type SecuritySetupReport,
  type SetupReport,
} from '@calwatch/indexer';
import { parseCommandArgs, reportCalwatchError } from './command-support';
import type { Command, CommandIo } from './registry';

const usage = `usage: calwatch es-setup [--json]

Installs or upgrades calwatch's Elasticsearch templates, the findings index and the
current enriched index with their read aliases. Idempotent: a second run changes nothing.
Refuses to replace templates a newer release installed.

Environment: ELASTICSEARCH_URL, ELASTICSEARCH_USERNAME/_PASSWORD or ELASTICSEARCH_API_KEY,
ELASTICSEARCH_CA_FILE, ELASTICSEARCH_TLS_INSECURE, CALWATCH_INDEX_PREFIX,
CALWATCH_INDEX_INTERVAL, CALWATCH_INDEX_SHARDS, CALWATCH_INDEX_REPLICAS.`;

export function formatSetupReport(report: SetupReport): string {
  const lines = [`Elasticsearch ${report.capabilities.version}${report.capabilities.buildFlavor === null ? '' : ` (${report.capabilities.buildFlavor})`}`];
  for (const t of report.templates) lines.push(`  ${t.kind} template ${t.name}: ${t.action} (version ${t.version})`);
  for (const i of report.indices) lines.push(`  index ${i.name}: ${i.action}`);
  for (const d of report.degraded) lines.push(`  note: ${d}`);
  lines.push(report.unchanged ? 'nothing to change.' : 'setup complete.');
  return lines.join('\n');
}

/** Installs or upgrades what the environment's index prefix and layout name; `setup` runs it too. */
export async function installEsSetupFromEnv(env: NodeJS.ProcessEnv): Promise<SetupReport> {
  const config = loadEsSetupConfig(env);
  const client = createElasticsearchClient({ connection: config.elasticsearch });
  try {
    return await installElasticsearchSetup({
      client,
      names: buildIndexNames(config.indexPrefix, config.indexInterval),
      layout: { shards: config.shards, replicas: config.replicas },
    });
  } finally {
    await client.close();
  }
}

export function formatSecurityReport(report: SecuritySetupReport): string {
  const lines = [`  roles ${report.roles.join(', ')}: created or updated`];
  for (const user of report.users) lines.push(`  user ${user}: created or updated`);
  for (const key of report.apiKeys) lines.push(`  API key for ${key.role} (id ${key.id}; shown once): ELASTICSEARCH_API_KEY=${key.encoded}`);
  return lines.join('\n');
}

/** `setup --elasticsearch-users / --elasticsearch-api-keys`: the least-privilege roles, users and keys. */
export async function installEsSecurityFromEnv(env: NodeJS.ProcessEnv, wanted: { users: boolean; apiKeys: boolean }): Promise<SecuritySetupReport> {
  const config = loadEsSetupConfig(env);
  const users: CalwatchUser[] = [];
  if (wanted.users) {
    if (config.writer.password === undefined) {
      throw SHARED_ERRORS.create('SHARED_CONFIG_INVALID', 'invalid configuration:\n  CALWATCH_ES_WRITER_PASSWORD: required with --elasticsearch-users');
    }
    users.push({ username: config.writer.username, password: config.writer.password, role: WRITER_ROLE });
    if (config.reader.password !== undefined) {
      users.push({ username: config.reader.username, password: config.reader.password, role: READER_ROLE });
    }
  }
  const client = createElasticsearchClient({ connection: config.elasticsearch });
  try {
    return await installElasticsearchSecurity({
      client,
      indexPrefix: config.indexPrefix,
      users,
      apiKeysFor: wanted.apiKeys ? [WRITER_ROLE, READER_ROLE] : [],
    });
  } finally {
    await client.close();
  }
}

async function run(args: string[], io: CommandIo): Promise<number> {
  const parsed = parseCommandArgs('es-setup', usage, io, { args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (typeof parsed === 'number') return parsed;
  try {
    const report = await installEsSetupFromEnv(io.env);
    io.stdout.write((parsed.values.json === true ? JSON.stringify(report, null, 2) : formatSetupReport(report)) + '\n');
    return 0;
  } catch (error) {
    return reportCalwatchError('es-setup', io, error);
  }
}

export const command: Command = {
  name: 'es-setup',
  summary: 'install or upgrade the Elasticsearch templates, indices and aliases',
  usage,
  run,
};
