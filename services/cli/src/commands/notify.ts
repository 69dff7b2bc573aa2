import { loadNotifierConfig, sendTestNotification } from '@calwatch/notifier';
import { reportCalwatchError } from './command-support';
import type { Command, CommandIo } from './registry';

const usage = `usage: calwatch notify test <target>
       calwatch notify list

test   sends a test message to the named target of the notifier's configuration
       (NOTIFIER_TARGETS or NOTIFIER_CONFIG_FILE), with the notifier's retries; for
       PagerDuty the test alert is resolved right after. Exit 0 when delivered.
list   prints the configured targets (name, type, routing; never URLs or keys).`;

async function run(args: string[], io: CommandIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(usage + '\n');
    return 0;
  }
  const [verb, ...rest] = args;
  if (!((verb === 'test' && rest.length === 1) || (verb === 'list' && rest.length === 0))) {
    io.stderr.write(`calwatch notify: expected 'test <target>' or 'list'\n${usage}\n`);
    return 2;
  }
  try {
    const config = loadNotifierConfig(io.env);
    if (verb === 'list') {
      if (config.targets.length === 0) io.stdout.write('no targets configured (NOTIFIER_TARGETS or NOTIFIER_CONFIG_FILE)\n');
      for (const t of config.targets) {
        const rules = t.rules?.join(',') ?? 'all rules';
        const servers = t.licenseServers?.join(',') ?? 'all servers';
        io.stdout.write(`${t.name.padEnd(20)} ${t.type.padEnd(10)} >= ${t.minSeverity}; ${rules}; ${servers}\n`);
      }
      return 0;
    }
    const result = await sendTestNotification({ config, targetName: rest[0]!, signal: io.signal });
    let ok = true;
    for (const step of result.steps) {
      if (step.delivered) {
        io.stdout.write(`${result.target} (${result.type}): ${step.action} delivered after ${step.attempts} attempt(s)\n`);
      } else {
        ok = false;
        io.stderr.write(`${result.target} (${result.type}): ${step.action} failed after ${step.attempts} attempt(s): ${step.error?.code ?? 'error'}: ${step.error?.message ?? ''}\n`);
      }
    }
    return ok ? 0 : 1;
  } catch (error) {
    return reportCalwatchError('notify', io, error);
  }
}

export const command: Command = {
  name: 'notify',
  summary: 'send a test message to a notifier target (notify test <target>)',
  usage,
  run,
};
