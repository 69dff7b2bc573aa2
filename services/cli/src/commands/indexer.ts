import { isCalwatchError } from '@calwatch/shared';
import { runIndexer } from '@calwatch/indexer';
import type { Command, CommandIo } from './registry';

const usage = `usage: calwatch indexer

Consumes the findings and enriched topics and writes them to Elasticsearch until SIGINT or
SIGTERM. Configuration comes from the environment (KAFKA_*, ELASTICSEARCH_*, INDEXER_*,
CALWATCH_TOPIC_PREFIX, CALWATCH_INDEX_PREFIX); run 'calwatch es-setup' first.`;

async function run(args: string[], io: CommandIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(usage + '\n');
    return 0;
  }
  if (args.length > 0) {
    io.stderr.write(`calwatch indexer: unexpected arguments: ${args.join(' ')}\n${usage}\n`);
    return 2;
  }
  try {
    return await runIndexer({ env: io.env, signal: io.signal });
  } catch (error) {
    if (isCalwatchError(error)) {
      io.stderr.write(`calwatch indexer: ${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

export const command: Command = {
  name: 'indexer',
  summary: 'write findings and enriched events to Elasticsearch',
  usage,
  run,
};
