import { runIndexer } from '@calwatch/indexer';
import { checkNoArguments, reportCalwatchError } from './command-support';
import type { Command, CommandIo } from './registry';

const usage = `usage: calwatch indexer

Consumes the findings and enriched topics and writes them to Elasticsearch until SIGINT or
SIGTERM. Configuration comes from the environment (KAFKA_*, ELASTICSEARCH_*, INDEXER_*,
CALWATCH_TOPIC_PREFIX, CALWATCH_INDEX_PREFIX); run 'calwatch es-setup' first.`;

async function run(args: string[], io: CommandIo): Promise<number> {
  const exitCode = checkNoArguments('indexer', usage, io, args);
  if (exitCode !== undefined) return exitCode;
  try {
    return await runIndexer({ env: io.env, signal: io.signal });
  } catch (error) {
    return reportCalwatchError('indexer', io, error);
  }
}

export const command: Command = {
  name: 'indexer',
  summary: 'write findings and enriched events to Elasticsearch',
  usage,
  run,
};
