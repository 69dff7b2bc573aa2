import { parseArgs } from 'node:util';
import { createElasticsearchClient, isCalwatchError, toElasticsearchConnection } from '@calwatch/shared';
import { buildIndexNames, installElasticsearchSetup, loadEsSetupConfig, type SetupReport } from '@calwatch/indexer';
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

async function run(args: string[], io: CommandIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    io.stderr.write(`calwatch es-setup: ${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  if (parsed.values.help === true) {
    io.stdout.write(usage + '\n');
    return 0;
  }
  try {
    const config = loadEsSetupConfig(io.env);
    const client = createElasticsearchClient({ connection: toElasticsearchConnection(config) });
    try {
      const report = await installElasticsearchSetup({
        client,
        names: buildIndexNames(config.CALWATCH_INDEX_PREFIX, config.CALWATCH_INDEX_INTERVAL),
        layout: { shards: config.CALWATCH_INDEX_SHARDS, replicas: config.CALWATCH_INDEX_REPLICAS },
      });
      io.stdout.write((parsed.values.json === true ? JSON.stringify(report, null, 2) : formatSetupReport(report)) + '\n');
      return 0;
    } finally {
      await client.close();
    }
  } catch (error) {
    if (isCalwatchError(error)) {
      io.stderr.write(`calwatch es-setup: ${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

export const command: Command = {
  name: 'es-setup',
  summary: 'install or upgrade the Elasticsearch templates, indices and aliases',
  usage,
  run,
};
