import { runCollector } from '@calwatch/collector';
import { checkNoArguments, reportCalwatchError } from './command-support';
import type { Command, CommandIo } from './registry';

const usage = `usage: calwatch collector

Runs the collector until SIGINT or SIGTERM: the HTTP ingest API (snapshots of issued
licenses and key packs, Windows events, client stores) and, with COLLECTOR_DROP_DIR, a
watched drop folder. Publishes canonical events to Kafka. Configuration comes from the
environment (KAFKA_*, CALWATCH_TOPIC_PREFIX, COLLECTOR_*; see services/collector/README.md).
At least COLLECTOR_TOKENS or COLLECTOR_TOKENS_FILE must be set. Run 'calwatch setup' first.
SIGHUP re-reads COLLECTOR_TOKENS_FILE and rescans the drop folder.`;

async function run(args: string[], io: CommandIo): Promise<number> {
  const exitCode = checkNoArguments('collector', usage, io, args);
  if (exitCode !== undefined) return exitCode;
  try {
    return await runCollector({
      env: io.env,
      signal: io.signal,
      onHangup: (listener) => {
        process.on('SIGHUP', listener);
        return () => process.off('SIGHUP', listener);
      },
    });
  } catch (error) {
    return reportCalwatchError('collector', io, error);
  }
}

export const command: Command = {
  name: 'collector',
  summary: 'run the HTTP ingest API and drop folder, publishing to Kafka',
  usage,
  run,
};
