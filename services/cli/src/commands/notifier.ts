import { runNotifier } from '@calwatch/notifier';
import { checkNoArguments, reportCalwatchError } from './command-support';
import type { Command, CommandIo } from './registry';

const usage = `usage: calwatch notifier

Consumes the findings and enriched topics and pages on-call (generic webhook, Slack,
PagerDuty, Microsoft Teams) when CALs leak fast, a pool is about to run dry, a
high-severity finding opens or the revocation limit is hit, until SIGINT or SIGTERM.
Configuration comes from the environment (KAFKA_*, CALWATCH_TOPIC_PREFIX, NOTIFIER_*;
targets in NOTIFIER_TARGETS or NOTIFIER_CONFIG_FILE); see docs/notifier.md.
Try a target first with 'calwatch notify test <target>'.`;

async function run(args: string[], io: CommandIo): Promise<number> {
  const exitCode = checkNoArguments('notifier', usage, io, args);
  if (exitCode !== undefined) return exitCode;
  try {
    return await runNotifier({ env: io.env, signal: io.signal });
  } catch (error) {
    return reportCalwatchError('notifier', io, error);
  }
}

export const command: Command = {
  name: 'notifier',
  summary: 'page on-call about CAL leaks and pool exhaustion',
  usage,
  run,
};
