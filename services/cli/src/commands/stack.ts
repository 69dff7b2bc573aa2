import { formatReachability, formatStatus } from '@calwatch/stack';
import { loadStackSettings, releaseStackLease, stackDown, stackStatus, stackUp } from '@calwatch/stack';
import { parseCommandArgs, reportCalwatchError } from './command-support';
import type { Command, CommandIo } from './registry';

const usage = `usage: calwatch stack up [--tls] | down [--purge | --if-unused] | status [--json]

  up       start Kafka (KRaft) and Elasticsearch from Maven Central artifacts, wait until
           both serve requests, write stack.json / stack.env; harmless when already up.
           --tls: TLS on every hop (a CA in the state dir, Kafka SASL_SSL with SCRAM-SHA-512
           and client certificates, Elasticsearch HTTPS); a stack running in the other mode
           is refused, never switched: 'down' first
  down     stop the processes 'up' started; --purge also wipes data, logs and the password;
           --if-unused stops only what test runs started, once no test run uses it (CI clean-up)
  status   what runs (pid, ports, version, health) and where the logs are; exit 3 if not
           everything is running and healthy

Settings (environment): CALWATCH_STACK_DIR, CALWATCH_CACHE_DIR, CALWATCH_JAVA_HOME,
CALWATCH_STACK_KAFKA_PORT (9092), CALWATCH_STACK_KAFKA_CONTROLLER_PORT (9093),
CALWATCH_STACK_ELASTICSEARCH_PORT (9200), CALWATCH_STACK_ELASTICSEARCH_TRANSPORT_PORT (9300),
CALWATCH_STACK_KAFKA_VERSION, CALWATCH_STACK_ELASTICSEARCH_VERSION, CALWATCH_STACK_*_HEAP_MB,
CALWATCH_STACK_START_TIMEOUT_MS, CALWATCH_STACK_STOP_GRACE_MS, CALWATCH_STACK_USER.`;

async function run(args: string[], io: CommandIo): Promise<number> {
  const parsed = parseCommandArgs('stack', usage, io, {
    args,
    allowPositionals: true,
    options: {
      purge: { type: 'boolean' },
      tls: { type: 'boolean' },
      'if-unused': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const [action, ...extra] = parsed.positionals;
  if (action === undefined || extra.length > 0 || !['up', 'down', 'status'].includes(action)) {
    io.stderr.write(usage + '\n');
    return 2;
  }
  const log = (line: string): void => {
    io.stdout.write(line + '\n');
  };
  if (parsed.values.tls === true && action !== 'up') {
    // down and status act on whatever mode runs.
    io.stderr.write(`calwatch stack: --tls goes with 'up' only\n`);
    return 2;
  }
  try {
    const settings = loadStackSettings(io.env);
    if (action === 'up') {
      const result = await stackUp({ settings, log, signal: io.signal, tls: parsed.values.tls === true });
      const stateDir = result.info.stateDir;
      const mode = result.info.tls === undefined ? '' : ' with TLS';
      log(result.started.length === 0 ? `stack already running${mode}.` : `stack up${mode} (started ${result.started.join(', ')}).`);
      log(formatReachability(result.info, `${stateDir}/stack.env`));
      return 0;
    }
    if (action === 'down' && parsed.values['if-unused'] === true) {
      if (parsed.values.purge === true) {
        io.stderr.write('calwatch stack: --purge and --if-unused do not go together\n');
        return 2;
      }
      // This process holds no lease; what remains are other runs' (live or dead) leases.
      const stopped = await releaseStackLease({ settings, log });
      if (stopped.length === 0) log('nothing to stop: no component was started by a test run that has ended.');
      return 0;
    }
    if (action === 'down') {
      const result = await stackDown({ settings, log, purge: parsed.values.purge === true });
      if (result.stopped.length === 0) log('nothing was running.');
      return 0;
    }
    const status = await stackStatus({ settings });
    if (parsed.values.json === true) {
      // The passwords are not printed; stack.json (mode 0600) holds them.
      const info = status.info;
      const redacted =
        info === undefined
          ? undefined
          : {
              ...info,
              elasticsearch: { ...info.elasticsearch, password: '<redacted>' },
              ...(info.tls === undefined ? {} : { tls: { ...info.tls, kafka: { ...info.tls.kafka, password: '<redacted>' } } }),
            };
      io.stdout.write(JSON.stringify({ ...status, info: redacted }, null, 2) + '\n');
    } else {
      log(formatStatus(status));
    }
    const healthy = status.components.every((c) => c.running && c.health?.ok === true);
    return healthy ? 0 : 3;
  } catch (error) {
    return reportCalwatchError('stack', io, error);
  }
}

export const command: Command = {
  name: 'stack',
  summary: 'start, stop or inspect the local Kafka + Elasticsearch stack',
  usage,
  run,
};
