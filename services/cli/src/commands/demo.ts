import { parseArgs } from 'node:util';
import { MIN_DEMO_DEVICES } from '../demo/fleet';
import { DEMO_EXIT, runDemo, type DemoOptions } from '../demo/demo-run';
import { NamespaceName, parseWallDuration } from '../replay/config';
import type { Command, CommandIo } from './registry';

const usage = `usage: calwatch demo [options]

The whole pipeline on this machine: brings up the local stack (Kafka + Elasticsearch;
harmless when it runs), creates the topics and templates, starts the collector,
processor, indexer and notifier in this process with a local webhook receiver that
prints the pages it gets, and streams a simulated fleet (every leak cause) through the
collector's HTTP API. Findings show up live; at the end: where they are in Elasticsearch,
findings by kind, leaked and reclaimable CALs, pages sent, and detection scored against
the simulator's truth. Ctrl-C stops cleanly; the stack keeps running ('calwatch stack down').

options:
  --duration <d>      wall time the simulated window is streamed over (default 3m; e.g. 20s)
  --devices <n>       simulated machines (default 300, at least ${MIN_DEMO_DEVICES})
  --days <n>          simulated days, one snapshot a day (default 60)
  --seed <n>          simulation seed (default 42)
  --namespace <name>  topics calwatch.<name>.*, indices calwatch-<name>-* (default demo);
                      reset at every run
  --keep-running      keep the services up after the stream until Ctrl-C
  --drain-timeout <d> how long to wait for the pipeline after the stream (default 2m)
  -h, --help          this text

exit codes: 0 done, 1 a step failed (the message names it), 2 usage, 130 interrupted`;

function parse(args: string[]): DemoOptions | 'help' | string {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        duration: { type: 'string', default: '3m' },
        devices: { type: 'string', default: '300' },
        days: { type: 'string', default: '60' },
        seed: { type: 'string', default: '42' },
        namespace: { type: 'string', default: 'demo' },
        'keep-running': { type: 'boolean' },
        'drain-timeout': { type: 'string', default: '2m' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return (error as Error).message;
  }
  if (values.help === true) return 'help';
  const problems: string[] = [];
  const int = (name: string, text: string, min: number, max: number): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) problems.push(`--${name}: expected a whole number from ${min} to ${max}, got '${text}'`);
    return n;
  };
  const durationMs = parseWallDuration(values.duration);
  if (durationMs === undefined) problems.push(`--duration: expected e.g. 20s, 3m, 1h, got '${values.duration}'`);
  const drainTimeoutMs = parseWallDuration(values['drain-timeout']);
  if (drainTimeoutMs === undefined) problems.push(`--drain-timeout: expected e.g. 90s, 2m, got '${values['drain-timeout']}'`);
  const devices = int('devices', values.devices, MIN_DEMO_DEVICES, 20_000);
  const days = int('days', values.days, 7, 365);
  const seed = int('seed', values.seed, 0, 0xffffffff);
  const namespace = NamespaceName.safeParse(values.namespace);
  if (!namespace.success) problems.push(`--namespace: ${namespace.error.issues[0]?.message ?? 'invalid'}`);
  if (problems.length > 0) return problems.join('\n');
  return { durationMs: durationMs!, drainTimeoutMs: drainTimeoutMs!, devices, days, seed, namespace: values.namespace, keepRunning: values['keep-running'] === true };
}

async function run(args: string[], io: CommandIo): Promise<number> {
  const options = parse(args);
  if (options === 'help') {
    io.stdout.write(`${usage}\n`);
    return DEMO_EXIT.ok;
  }
  if (typeof options === 'string') {
    io.stderr.write(`calwatch demo: ${options}\n\n${usage}\n`);
    return DEMO_EXIT.usage;
  }
  return runDemo(options, io);
}

export const command: Command = {
  name: 'demo',
  summary: 'run the whole pipeline on a simulated fleet, end to end',
  usage,
  run,
};
