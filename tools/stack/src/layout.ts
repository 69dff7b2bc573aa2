import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { StackSettings } from './settings';

/** Where every file of the stack lives. Built once per command from the settings. */
export interface StackLayout {
  stateDir: string;
  stackJson: string;
  stackEnv: string;
  passwordFile: string;
  lockDir: string;
  leasesDir: string;
  runDir: string;
  logsDir: string;
  /** TLS mode: the stack's CA and the certificates it issued (kept across restarts, removed by --purge). */
  tlsDir: string;
  kafka: {
    libsDir: string;
    mavenDir: string;
    configDir: string;
    serverProperties: string;
    log4jConfig: string;
    dataDir: string;
    logsDir: string;
    serverLog: string;
    stdoutLog: string;
    pidFile: string;
    /** TLS mode: the SCRAM users made when the TLS storage was formatted. */
    scramUsersFile: string;
  };
  elasticsearch: {
    downloadDir: string;
    /** The unpacked distribution (read-only at run time). */
    homeDir: string;
    /** config/, data/, logs/ of this stack; owned by the service user when we are root. */
    runDir: string;
    configDir: string;
    dataDir: string;
    logsDir: string;
    serverLog: string;
    stdoutLog: string;
    pidFile: string;
    /** Pid file Elasticsearch itself writes (`-p`): the server JVM. */
    serverPidFile: string;
  };
}

/**
 * Where Elasticsearch's files go when it must run as an unprivileged user that cannot
 * reach the usual cache/state dirs (root's home is not traversable by others).
 */
export interface ElasticsearchPlacement {
  homeBase: string;
  runDir: string;
}

export const SYSTEM_CACHE_DIR = '/var/cache/calwatch';
export const SYSTEM_STATE_DIR = '/var/lib/calwatch';

export function buildDefaultPlacement(settings: Pick<StackSettings, 'stateDir' | 'cacheDir'>): ElasticsearchPlacement {
  return { homeBase: join(settings.cacheDir, 'elasticsearch'), runDir: join(settings.stateDir, 'elasticsearch') };
}

/** The system-wide placement, one run dir per state dir so separate stacks never share data. */
export function buildSystemPlacement(settings: Pick<StackSettings, 'stateDir'>): ElasticsearchPlacement {
  const id = createHash('sha256').update(settings.stateDir).digest('hex').slice(0, 12);
  return { homeBase: join(SYSTEM_CACHE_DIR, 'elasticsearch'), runDir: join(SYSTEM_STATE_DIR, 'stacks', id, 'elasticsearch') };
}

/**
 * Plain or TLS (`stack up --tls`). Each mode keeps its own Kafka and Elasticsearch data: a
 * KRaft storage gets its SCRAM users only when it is formatted, so the TLS broker cannot
 * take over a storage made without them.
 */
export type StackMode = 'plain' | 'tls';

export function buildLayout(
  settings: StackSettings,
  placement: ElasticsearchPlacement = buildDefaultPlacement(settings),
  mode: StackMode = 'plain',
): StackLayout {
  const dataName = mode === 'tls' ? 'data-tls' : 'data';
  const { stateDir, cacheDir } = settings;
  const runDir = join(stateDir, 'run');
  const logsDir = join(stateDir, 'logs');
  const kafkaDir = join(stateDir, 'kafka');
  const kafkaCache = join(cacheDir, 'kafka', settings.kafka.version);
  const esVersion = settings.elasticsearch.version;
  const esRun = placement.runDir;
  return {
    stateDir,
    stackJson: join(stateDir, 'stack.json'),
    stackEnv: join(stateDir, 'stack.env'),
    passwordFile: join(stateDir, 'elasticsearch-password'),
    lockDir: join(stateDir, '.lock'),
    leasesDir: join(stateDir, 'leases'),
    runDir,
    logsDir,
    tlsDir: join(stateDir, 'tls'),
    kafka: {
      libsDir: join(kafkaCache, 'libs'),
      mavenDir: kafkaCache,
      configDir: join(kafkaDir, 'config'),
      serverProperties: join(kafkaDir, 'config', 'server.properties'),
      log4jConfig: join(kafkaDir, 'config', 'log4j2.properties'),
      dataDir: join(kafkaDir, dataName),
      logsDir: join(kafkaDir, 'logs'),
      serverLog: join(kafkaDir, 'logs', 'server.log'),
      stdoutLog: join(logsDir, 'kafka.stdout.log'),
      pidFile: join(runDir, 'kafka.pid'),
      scramUsersFile: join(kafkaDir, 'scram-users.json'),
    },
    elasticsearch: {
      // Apart from the unpacked home: each directory has its own completeness marker.
      downloadDir: join(cacheDir, 'downloads', `elasticsearch-${esVersion}`),
      homeDir: join(placement.homeBase, esVersion, `elasticsearch-${esVersion}`),
      runDir: esRun,
      configDir: join(esRun, 'config'),
      dataDir: join(esRun, dataName),
      logsDir: join(esRun, 'logs'),
      serverLog: join(esRun, 'logs', `${ELASTICSEARCH_CLUSTER_NAME}.log`),
      stdoutLog: join(logsDir, 'elasticsearch.stdout.log'),
      pidFile: join(runDir, 'elasticsearch.pid'),
      serverPidFile: join(esRun, 'elasticsearch.server.pid'),
    },
  };
}

export const ELASTICSEARCH_CLUSTER_NAME = 'calwatch-local';
