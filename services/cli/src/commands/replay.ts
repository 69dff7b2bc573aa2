import { isCalwatchError } from '@calwatch/model';
import { NamespaceName, parseWallDuration } from '../replay/config';
import { REPLAY_EXIT, executeReplay, type ReplayOptions } from '../replay/execute';
import { UsageError, parseArguments } from './command-support';
import type { Command, CommandIo } from './registry';

const usage = `usage: calwatch replay <file|dir|glob ...> [options]

Feeds historical exports and logs (plain or gzip) through the collector's parsing into
Kafka, in event-time order: snapshot exports at their snapshot time (a time stamp in the
file name, else the file's mtime), event files merged by event time (streamed). Records
go to an isolated namespace unless --live is given, so a replay never disturbs live
findings. Re-sent records are invisible downstream (deterministic event ids); a
checkpoint records what was sent, so an interrupted replay resumes with --resume.

target:
  --namespace <name>       topics calwatch.replay.<name>.*, indices calwatch-replay-<name>-*
                           (default: default); created when missing
  --live                   the live topics (CALWATCH_TOPIC_PREFIX) instead; they must exist
  --collector-url <url>    post to a running collector's HTTP API instead of publishing
                           in-process (the collector's prefix decides the topics)
  --token <token>          bearer token for --collector-url (or CALWATCH_COLLECTOR_TOKEN)

pace and processing:
  --speed <factor>         event time per wall time, e.g. 3600 = one hour per second
                           (default: as fast as the target takes it)
  --process                run the namespace's processor and indexer in this process until
                           they have caught up (Elasticsearch refresh off during the load)
  --drain-timeout <d>      how long --process waits for the pipeline (default 10m)

resume:
  --resume                 continue after what the checkpoint says was sent
  --checkpoint <file>      checkpoint file (default $XDG_STATE_HOME/calwatch/replay/<target>.json)

input:
  --license-server <name>  for rows and events that do not name their license server
  --batch <n>              event records per send (default 1000)
  --json                   print the summary as JSON
  -h, --help               this text

exit codes: 0 done, 1 failed, 2 usage, 3 --process did not drain in time, 130 interrupted`;

function parse(args: string[]): ReplayOptions | 'help' {
  const { values, positionals } = parseArguments({
    args,
    allowPositionals: true,
    options: {
      namespace: { type: 'string' },
      live: { type: 'boolean' },
      'collector-url': { type: 'string' },
      token: { type: 'string' },
      speed: { type: 'string' },
      process: { type: 'boolean' },
      'drain-timeout': { type: 'string' },
      resume: { type: 'boolean' },
      checkpoint: { type: 'string' },
      'license-server': { type: 'string' },
      batch: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  const problems: string[] = [];
  if (positionals.length === 0) problems.push('name at least one file, directory or glob');
  const live = values.live === true;
  if (live && values.namespace !== undefined) problems.push('--live and --namespace exclude each other');
  if (live && values.process === true) problems.push('--process runs a namespace\'s processor; live topics are processed by the running services');
  const namespace = values.namespace ?? 'default';
  const name = NamespaceName.safeParse(namespace);
  if (!name.success) problems.push(`--namespace: ${name.error.issues[0]?.message ?? 'invalid'}`);
  let speed: number | undefined;
  if (values.speed !== undefined) {
    speed = Number(values.speed);
    if (!Number.isFinite(speed) || speed <= 0) problems.push(`--speed must be a positive number, got '${values.speed}'`);
  }
  const drainTimeoutMs = parseWallDuration(values['drain-timeout'] ?? '10m');
  if (drainTimeoutMs === undefined) problems.push(`--drain-timeout: expected e.g. 90s, 10m, 1h, got '${values['drain-timeout']}'`);
  const batchRecords = Number(values.batch ?? '1000');
  if (!Number.isInteger(batchRecords) || batchRecords < 1) problems.push(`--batch must be a whole number >= 1, got '${values.batch}'`);
  if (values['collector-url'] !== undefined && !/^https?:\/\/[^/]+/.test(values['collector-url'])) {
    problems.push(`--collector-url must be an http(s) URL, got '${values['collector-url']}'`);
  }
  if (values.token !== undefined && values['collector-url'] === undefined) problems.push('--token goes with --collector-url');
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return {
    paths: positionals,
    namespace,
    live,
    process: values.process === true,
    drainTimeoutMs: drainTimeoutMs!,
    resume: values.resume === true,
    batchRecords,
    json: values.json === true,
    ...(values['collector-url'] === undefined ? {} : { collectorUrl: values['collector-url'] }),
    ...(values.token === undefined ? {} : { token: values.token }),
    ...(speed === undefined ? {} : { speed }),
    ...(values.checkpoint === undefined ? {} : { checkpointPath: values.checkpoint }),
    ...(values['license-server'] === undefined ? {} : { licenseServer: values['license-server'] }),
  };
}

async function run(args: string[], io: CommandIo): Promise<number> {
  let options: ReplayOptions | 'help';
  try {
    options = parse(args);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`calwatch replay: ${error.message}\n\n${usage}\n`);
      return REPLAY_EXIT.usage;
    }
    throw error;
  }
  if (options === 'help') {
    io.stdout.write(`${usage}\n`);
    return REPLAY_EXIT.ok;
  }
  try {
    return await executeReplay(options, io);
  } catch (error) {
    if (isCalwatchError(error)) {
      io.stderr.write(`calwatch replay: ${error.code}: ${error.message}\n`);
      if (error.retriable || error.code === 'REPLAY_COLLECTOR_REFUSED') io.stderr.write('calwatch replay: what was sent is in the checkpoint; continue with --resume\n');
      return REPLAY_EXIT.error;
    }
    throw error;
  }
}

export const command: Command = {
  name: 'replay',
  summary: 'replay historical exports and logs through the pipeline, resumable',
  usage,
  run,
};
