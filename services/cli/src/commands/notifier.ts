import { isCalwatchError } from '@calwatch/shared';
import { runNotifier } from '@calwatch/notifier';
import type { Command, CommandIo } from './registry';

const usage = `usage: calwatch notifier

Consumes the findings and enriched topics and pages on-call (generic webhook, Slack,
PagerDuty, Microsoft Teams) when CALs leak fast, a pool is about to run dry, a
high-severity finding opens or the revocation limit is hit, until SIGINT or SIGTERM.
Configuration comes from the environment (KAFKA_*, CALWATCH_TOPIC_PREFIX, NOTIFIER_*;
targets in NOTIFIER_TARGETS or NOTIFIER_CONFIG_FILE); see docs/notifier.md.
Try a target first with 'calwatch notify test <target>'.`;

async function run(args: string[], io: CommandIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(usage + '\n');
    return 0;
  }
  if (args.length > 0) {
    io.stderr.write(`calwatch notifier: unexpected arguments: ${args.join(' ')}\n${usage}\n`);
    return 2;
  }
  try {
    return await runNotifier({ env: io.env, signal: io.signal });
  } catch (error) {
    if (isCalwatchError(error)) {
      io.stderr.write(`calwatch notifier: ${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

export const command: Command = {
  name: 'notifier',
  summary: 'page on-call about CAL leaks and pool exhaustion',
  usage,
  run,
};
