import {
  buildIndexNames,
  buildSavedObjects,
  importSavedObjects,
  KIBANA_TARGET_VERSIONS,
  loadKibanaConfig,
  toNdjson,
  type KibanaConnection,
} from '@calwatch/indexer';
import { parseCommandArgs, reportCalwatchError } from './command-support';
import type { Command, CommandIo } from './registry';

const usage = `usage: calwatch kibana import [--url URL] [--space SPACE]
       calwatch kibana export

  import   imports calwatch's data views, saved searches and leakage dashboard through
           Kibana's saved-objects API (overwriting earlier calwatch objects)
  export   prints the saved objects as NDJSON (what deploy/kibana/ holds), for a manual
           import in Stack Management > Saved objects

Built for Kibana ${KIBANA_TARGET_VERSIONS}. Environment: KIBANA_URL, KIBANA_USERNAME and KIBANA_PASSWORD or
KIBANA_API_KEY, KIBANA_SPACE, CALWATCH_INDEX_PREFIX (data views point at its aliases).`;

async function run(args: string[], io: CommandIo): Promise<number> {
  const parsed = parseCommandArgs('kibana', usage, io, {
    args,
    allowPositionals: true,
    options: { url: { type: 'string' }, space: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (typeof parsed === 'number') return parsed;
  const [action, ...extra] = parsed.positionals;
  if (extra.length > 0 || (action !== 'import' && action !== 'export')) {
    io.stderr.write(usage + '\n');
    return 2;
  }
  try {
    const config = loadKibanaConfig(io.env);
    const ndjson = toNdjson(buildSavedObjects(buildIndexNames(config.indexPrefix)));
    if (action === 'export') {
      io.stdout.write(ndjson);
      return 0;
    }
    const url = parsed.values.url ?? config.url;
    if (url === undefined) {
      io.stderr.write('calwatch kibana import: give --url or set KIBANA_URL\n');
      return 2;
    }
    const connection: KibanaConnection = { url };
    if (config.apiKey !== undefined) connection.auth = { apiKey: config.apiKey };
    else if (config.username !== undefined) connection.auth = { username: config.username, password: config.password ?? '' };
    const space = parsed.values.space ?? config.space;
    if (space !== undefined) connection.space = space;
    const result = await importSavedObjects(connection, ndjson, fetch, io.signal);
    io.stdout.write(`imported ${result.successCount} saved objects into ${space ?? 'the default space'}.\n`);
    return 0;
  } catch (error) {
    return reportCalwatchError('kibana', io, error);
  }
}

export const command: Command = {
  name: 'kibana',
  summary: 'import (or export) the Kibana data views and leakage dashboard',
  usage,
  run,
};
