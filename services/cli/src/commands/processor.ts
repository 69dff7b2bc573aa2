import { runProcessor } from '@calwatch/processor';
import { resolveServiceEnv } from '../service-env';
import { checkNoArguments, reportCalwatchError } from './command-support';
import type { Command, CommandIo } from './registry';

const usage = `usage: calwatch processor

Runs the detection stages on Kafka until SIGINT or SIGTERM: reads the events topic, writes
findings and enriched events, keeps its state in changelog topics. Start several with one
PROCESSOR_GROUP_ID to share the partitions. Configuration comes from the environment
(KAFKA_*, CALWATCH_TOPIC_PREFIX, PROCESSOR_*, LOG_LEVEL); connection variables left unset
come from the running local stack. Run 'calwatch setup' first.`;

async function run(args: string[], io: CommandIo): Promise<number> {
  const exitCode = checkNoArguments('processor', usage, io, args);
  if (exitCode !== undefined) return exitCode;
  try {
    return await runProcessor({ env: await resolveServiceEnv(io.env), signal: io.signal });
  } catch (error) {
    return reportCalwatchError('processor', io, error);
  }
}

export const command: Command = {
  name: 'processor',
  summary: 'detect CAL leaks on the event stream (Kafka)',
  usage,
  run,
};
