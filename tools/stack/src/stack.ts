import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { isCalwatchError } from '@calwatch/model';
import { ELASTICSEARCH_USERNAME } from './elasticsearch-config';
import { ELASTICSEARCH_JAVA_RANGE, prepareElasticsearch, startElasticsearch } from './elasticsearch-node';
import { findJdk, type Jdk } from './java';
import { KAFKA_JAVA_RANGE, prepareKafka, startKafka } from './kafka-node';
import {
  buildDefaultPlacement,
  buildLayout,
  buildSystemPlacement,
  SYSTEM_STATE_DIR,
  type ElasticsearchPlacement,
  type StackLayout,
  type StackMode,
} from './layout';
import { addLease, clearAutoStarted, liveLeases, readAutoStarted, removeLease, writeAutoStarted } from './leases';
import { withLock } from './lock';
import { assertPortsFree } from './ports';
import {
  isProcessAlive,
  isRecordAlive,
  readPidRecord,
  removePidFile,
  stopProcessGroup,
  writePidRecord,
  type PidRecord,
} from './processes';
import { probeElasticsearch, probeKafka, waitUntilReady, type KafkaProbeTarget, type ProbeResult } from './readiness';
import { canUserTraverse, ensureServiceUser, lookupUser, type ServiceUser } from './service-user';
import type { StackSettings } from './settings';
import { readStackInfoFile, removeStackInfo, writeStackInfo, type StackInfo } from './stack-info';
import { ensureKafkaScramUsers, ensureStackCertificates, type KafkaScramUsers, type StackCertificates } from './stack-tls';
import { STACK_ERRORS } from './errors';

export type Component = 'kafka' | 'elasticsearch';

export interface StackOptions {
  /** Parsed once by the entry point (loadStackSettings over the environment it was given). */
  settings: StackSettings;
  /** Progress lines for a human; silent when omitted. */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

interface Context {
  settings: StackSettings;
  layout: StackLayout;
  runAs: ServiceUser | undefined;
}

const placementSchema = z.object({ homeBase: z.string(), runDir: z.string() });

function placementFile(settings: StackSettings): string {
  return join(settings.stateDir, 'placement.json');
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Elasticsearch refuses to run as root. As root we run it as the service user, and when
 * that user cannot reach our cache/state dirs (root's home is private) its files go under
 * /var/cache/calwatch and /var/lib/calwatch instead. The choice is remembered per state dir.
 */
async function resolveContext(settings: StackSettings, create: boolean, mode: StackMode = 'plain'): Promise<Context> {
  const remembered = await readFile(placementFile(settings), 'utf8')
    .then((t) => placementSchema.safeParse(JSON.parse(t)))
    .catch(() => undefined);
  let runAs: ServiceUser | undefined;
  if (isRoot()) runAs = create ? await ensureServiceUser(settings.serviceUser) : await lookupUser(settings.serviceUser);
  let placement: ElasticsearchPlacement;
  if (remembered?.success === true) {
    placement = remembered.data;
  } else if (runAs === undefined) {
    placement = buildDefaultPlacement(settings);
  } else {
    const reachable = (await canUserTraverse(runAs, settings.cacheDir)) && (await canUserTraverse(runAs, settings.stateDir));
    placement = reachable ? buildDefaultPlacement(settings) : buildSystemPlacement(settings);
  }
  if (create) {
    await mkdir(settings.stateDir, { recursive: true });
    await writeFile(placementFile(settings), JSON.stringify(placement, null, 2) + '\n');
  }
  return { settings, layout: buildLayout(settings, placement, mode), runAs };
}

async function readRecords(layout: StackLayout): Promise<Record<Component, PidRecord | undefined>> {
  return {
    kafka: await readPidRecord(layout.kafka.pidFile),
    elasticsearch: await readPidRecord(layout.elasticsearch.pidFile),
  };
}

function pidFileOf(layout: StackLayout, component: Component): string {
  return component === 'kafka' ? layout.kafka.pidFile : layout.elasticsearch.pidFile;
}

function logFilesOf(layout: StackLayout, component: Component): string[] {
  return component === 'kafka'
    ? [layout.kafka.serverLog, layout.kafka.stdoutLog]
    : [layout.elasticsearch.serverLog, layout.elasticsearch.stdoutLog];
}

async function readPassword(layout: StackLayout): Promise<string> {
  return (await readFile(layout.passwordFile, 'utf8')).trim();
}

function buildInfo(options: {
  ctx: Context;
  previous: StackInfo | undefined;
  keep: Set<Component>;
  records: Record<Component, PidRecord>;
  jdks: Record<Component, string>;
  password: string;
  tls: { certificates: StackCertificates; users: KafkaScramUsers } | undefined;
}): StackInfo {
  const { ctx, previous, keep, records, jdks, password, tls } = options;
  const { settings, layout } = ctx;
  const kafka: StackInfo['kafka'] =
    keep.has('kafka') && previous !== undefined
      ? previous.kafka
      : {
          brokers: [`127.0.0.1:${settings.kafka.port}`],
          version: settings.kafka.version,
          port: settings.kafka.port,
          controllerPort: settings.kafka.controllerPort,
          pid: records.kafka.pid,
          javaHome: jdks.kafka,
          dataDir: layout.kafka.dataDir,
          serverLog: layout.kafka.serverLog,
          stdoutLog: layout.kafka.stdoutLog,
        };
  const elasticsearch: StackInfo['elasticsearch'] =
    keep.has('elasticsearch') && previous !== undefined
      ? { ...previous.elasticsearch, password }
      : {
          url: elasticsearchUrl(settings, tls !== undefined),
          username: ELASTICSEARCH_USERNAME,
          password,
          passwordFile: layout.passwordFile,
          version: settings.elasticsearch.version,
          port: settings.elasticsearch.port,
          transportPort: settings.elasticsearch.transportPort,
          pid: records.elasticsearch.pid,
          javaHome: jdks.elasticsearch,
          runAsUser: ctx.runAs?.name ?? null,
          homeDir: layout.elasticsearch.homeDir,
          dataDir: layout.elasticsearch.dataDir,
          serverLog: layout.elasticsearch.serverLog,
          stdoutLog: layout.elasticsearch.stdoutLog,
        };
  return {
    format: 1,
    stateDir: settings.stateDir,
    startedAt: previous?.startedAt !== undefined && keep.size === 2 ? previous.startedAt : new Date().toISOString(),
    kafka,
    elasticsearch,
    ...(tls === undefined ? {} : { tls: buildTlsInfo(tls) }),
  };
}

type TlsInfo = NonNullable<StackInfo['tls']>;

function buildTlsInfo(tls: { certificates: StackCertificates; users: KafkaScramUsers }): TlsInfo {
  const { certificates, users } = tls;
  return {
    caFile: certificates.caFile,
    caFingerprint: certificates.caFingerprint,
    kafka: {
      saslMechanism: 'scram-sha-512',
      username: users.client.username,
      password: users.client.password,
      clientCertFile: certificates.client.certFile,
      clientKeyFile: certificates.client.keyFile,
    },
    collector: { certFile: certificates.collector.certFile, keyFile: certificates.collector.keyFile },
  };
}

function elasticsearchUrl(settings: StackSettings, tls: boolean): string {
  return `${tls ? 'https' : 'http'}://127.0.0.1:${settings.elasticsearch.port}`;
}

/** How the probes reach the stack: plain, or with its CA, client certificate and SASL user. */
function probeTargets(brokers: string[], tls: TlsInfo | undefined): { kafka: KafkaProbeTarget; elasticsearch: { caFile?: string } } {
  if (tls === undefined) return { kafka: { brokers }, elasticsearch: {} };
  return {
    kafka: {
      brokers,
      ssl: { caFile: tls.caFile, certFile: tls.kafka.clientCertFile, keyFile: tls.kafka.clientKeyFile },
      sasl: { mechanism: tls.kafka.saslMechanism, username: tls.kafka.username, password: tls.kafka.password },
    },
    elasticsearch: { caFile: tls.caFile },
  };
}

function describeMode(tls: boolean): string {
  return tls ? 'with TLS' : 'without TLS';
}

export interface StackUpResult {
  info: StackInfo;
  /** Components this call started; empty when everything was already running. */
  started: Component[];
  alreadyRunning: Component[];
}

/**
 * Starts Kafka and Elasticsearch unless they already run, waits until both really serve
 * requests and writes stack.json / stack.env. Safe to call repeatedly and concurrently.
 * With `tls` every hop is encrypted and authenticated: Kafka on SASL_SSL (SCRAM-SHA-512 and
 * a client certificate), Elasticsearch on HTTPS, all signed by a CA made in the state dir.
 * A stack running in the other mode is refused (STACK_MODE_MISMATCH), never switched.
 */
export async function stackUp(options: StackOptions & { lease?: boolean; tls?: boolean }): Promise<StackUpResult> {
  const log = options.log ?? ((): void => undefined);
  const wantTls = options.tls === true;
  const ctx = await resolveContext(options.settings, true, wantTls ? 'tls' : 'plain');
  const { settings, layout } = ctx;
  // Long enough for another process's first `up` (downloads included) to finish.
  const lockTimeoutMs = settings.startTimeoutMs + 900_000;
  return withLock(layout.lockDir, lockTimeoutMs, async () => {
    const records = await readRecords(layout);
    const alive: Record<Component, boolean> = {
      kafka: await isRecordAlive(records.kafka),
      elasticsearch: await isRecordAlive(records.elasticsearch),
    };
    for (const c of ['kafka', 'elasticsearch'] as const) {
      if (records[c] !== undefined && !alive[c]) {
        log(`${c}: removing stale pid file (pid ${records[c].pid} is gone)`);
        await removePidFile(pidFileOf(layout, c));
      }
    }
    const previous = await readStackInfoFile(layout.stackJson).catch(() => undefined);
    const toStart = (['kafka', 'elasticsearch'] as const).filter((c) => !alive[c]);
    const alreadyRunning = (['kafka', 'elasticsearch'] as const).filter((c) => alive[c]);
    const otherMode = alreadyRunning.filter((c) => (records[c]!.tls === true) !== wantTls);
    if (otherMode.length > 0) {
      const running = otherMode.map((c) => `${c} pid ${records[c]!.pid}`).join(', ');
      throw STACK_ERRORS.create(
        'STACK_MODE_MISMATCH',
        `the stack in ${settings.stateDir} is running ${describeMode(!wantTls)} (${running}); 'calwatch stack up${wantTls ? ' --tls' : ''}' does not switch a running stack. ` +
          `To switch: 'calwatch stack down', then 'calwatch stack up${wantTls ? ' --tls' : ''}' (each mode keeps its own data)`,
        { context: { stateDir: settings.stateDir, running: otherMode, tls: !wantTls } },
      );
    }
    for (const c of alreadyRunning) log(`${c}: already running ${describeMode(wantTls)} (pid ${records[c]!.pid})`);

    await assertPortsFree([
      ...(toStart.includes('kafka')
        ? [
            { port: settings.kafka.port, use: 'Kafka broker' },
            { port: settings.kafka.controllerPort, use: 'Kafka controller' },
          ]
        : []),
      ...(toStart.includes('elasticsearch')
        ? [
            { port: settings.elasticsearch.port, use: 'Elasticsearch HTTP' },
            { port: settings.elasticsearch.transportPort, use: 'Elasticsearch transport' },
          ]
        : []),
    ]);

    const jdks: Partial<Record<Component, Jdk>> = {};
    const started: Record<Component, PidRecord | undefined> = { kafka: undefined, elasticsearch: undefined };
    let password: string;
    let tls: { certificates: StackCertificates; users: KafkaScramUsers } | undefined;
    try {
      // Certificates are renewed only while nothing that uses them runs.
      const certificates = wantTls ? await ensureStackCertificates(layout.tlsDir, { mayRenew: alreadyRunning.length === 0 }) : undefined;
      if (certificates !== undefined) log(`tls: CA ${certificates.caFile} (SHA-256 ${certificates.caFingerprint})`);
      let users: KafkaScramUsers | undefined;
      if (toStart.includes('kafka')) {
        jdks.kafka = await findJdk({ component: 'Kafka', preferredHome: settings.javaHome, explicitHomes: settings.extraJavaHomes, range: KAFKA_JAVA_RANGE });
        log(`kafka: preparing ${settings.kafka.version} (Java ${jdks.kafka.version} at ${jdks.kafka.home})${wantTls ? ', SASL_SSL' : ''}`);
        users = await prepareKafka({ settings, layout, jdk: jdks.kafka, certificates });
      } else if (wantTls) {
        users = await ensureKafkaScramUsers(layout.kafka.scramUsersFile, { storageFormatted: true });
      }
      if (certificates !== undefined && users !== undefined) tls = { certificates, users };
      if (toStart.includes('elasticsearch')) {
        jdks.elasticsearch = await findJdk({
          component: 'Elasticsearch',
          preferredHome: settings.javaHome,
          explicitHomes: settings.extraJavaHomes,
          range: ELASTICSEARCH_JAVA_RANGE,
        });
        log(
          `elasticsearch: preparing ${settings.elasticsearch.version} (Java ${jdks.elasticsearch.version}` +
            `${ctx.runAs !== undefined ? `, as user ${ctx.runAs.name}` : ''})`,
        );
        password = await prepareElasticsearch({ settings, layout, jdk: jdks.elasticsearch, runAs: ctx.runAs, certificates });
      } else {
        password = await readPassword(layout);
      }
      for (const c of toStart) {
        const record =
          c === 'kafka'
            ? await startKafka({ settings, layout, jdk: jdks.kafka!, tls: wantTls })
            : await startElasticsearch({ settings, layout, jdk: jdks.elasticsearch!, runAs: ctx.runAs, tls: wantTls });
        started[c] = record;
        await writePidRecord(pidFileOf(layout, c), record);
        log(`${c}: started (pid ${record.pid}); waiting until ready`);
      }
      const brokers = alive.kafka && previous !== undefined ? previous.kafka.brokers : [`127.0.0.1:${settings.kafka.port}`];
      const esUrl = alive.elasticsearch && previous !== undefined ? previous.elasticsearch.url : elasticsearchUrl(settings, wantTls);
      const pw = password;
      const targets = probeTargets(brokers, tls === undefined ? undefined : buildTlsInfo(tls));
      // The first failure ends the other wait too, so a crash is reported at once.
      const giveUp = new AbortController();
      const signal = options.signal === undefined ? giveUp.signal : AbortSignal.any([options.signal, giveUp.signal]);
      let firstFailure: unknown;
      const waits = (['kafka', 'elasticsearch'] as const).map(async (c) => {
        const pid = started[c]?.pid ?? records[c]!.pid;
        try {
          const result = await waitUntilReady({
            what: c === 'kafka' ? 'Kafka' : 'Elasticsearch',
            probe:
              c === 'kafka'
                ? () => probeKafka(targets.kafka, { createTopic: true })
                : () => probeElasticsearch(esUrl, { username: ELASTICSEARCH_USERNAME, password: pw }, targets.elasticsearch),
            // The pid we just spawned cannot be recycled while it is our child, so no marker check here.
            isAlive: () => isProcessAlive(pid),
            timeoutMs: settings.startTimeoutMs,
            logFiles: logFilesOf(layout, c),
            signal,
          });
          log(`${c}: ready (${result.detail})`);
        } catch (error) {
          firstFailure ??= error;
          giveUp.abort();
        }
      });
      await Promise.all(waits);
      if (firstFailure !== undefined) throw firstFailure;
    } catch (error) {
      // Leave nothing half-started behind: stop what this call started.
      for (const c of ['elasticsearch', 'kafka'] as const) {
        const record = started[c];
        if (record === undefined) continue;
        await stopProcessGroup(record, 5_000);
        await removePidFile(pidFileOf(layout, c));
      }
      throw error;
    }
    const finalRecords: Record<Component, PidRecord> = {
      kafka: started.kafka ?? records.kafka!,
      elasticsearch: started.elasticsearch ?? records.elasticsearch!,
    };
    const info = buildInfo({
      ctx,
      previous,
      keep: new Set(alreadyRunning),
      records: finalRecords,
      jdks: {
        kafka: jdks.kafka?.home ?? previous?.kafka.javaHome ?? '',
        elasticsearch: jdks.elasticsearch?.home ?? previous?.elasticsearch.javaHome ?? '',
      },
      password,
      tls,
    });
    await writeStackInfo(layout, info);
    if (options.lease === true) {
      await addLease(layout.leasesDir, process.pid);
      if (toStart.length > 0) await writeAutoStarted(layout.leasesDir, [...(await readAutoStarted(layout.leasesDir)), ...toStart]);
    } else {
      await clearAutoStarted(layout.leasesDir);
    }
    return { info, started: toStart, alreadyRunning };
  });
}

export interface StackDownResult {
  stopped: Array<{ component: Component; pid: number; how: 'terminated' | 'killed' | 'not-running' }>;
  purged: string[];
}

async function stopComponents(ctx: Context, targets: readonly Component[], log: (line: string) => void): Promise<StackDownResult['stopped']> {
  const { settings, layout } = ctx;
  const records = await readRecords(layout);
  const stopped: StackDownResult['stopped'] = [];
  // Reverse start order: Elasticsearch, then Kafka.
  for (const c of (['elasticsearch', 'kafka'] as const).filter((t) => targets.includes(t))) {
    const record = records[c];
    if (record === undefined) {
      log(`${c}: not running (no pid file)`);
      continue;
    }
    const how = (await isRecordAlive(record)) ? await stopProcessGroup(record, settings.stopGraceMs) : 'not-running';
    log(how === 'not-running' ? `${c}: was not running (stale pid file removed)` : `${c}: stopped pid ${record.pid} (${how})`);
    stopped.push({ component: c, pid: record.pid, how });
    await removePidFile(pidFileOf(layout, c));
  }
  // A partial stop keeps stack.json for the half still running; readers check liveness anyway.
  if (targets.length === 2) await removeStackInfo(layout);
  return stopped;
}

/**
 * Stops exactly the processes recorded in the pid files; `purge` also wipes data, logs
 * and credentials.
 */
export async function stackDown(options: StackOptions & { purge?: boolean }): Promise<StackDownResult> {
  const log = options.log ?? ((): void => undefined);
  const ctx = await resolveContext(options.settings, false);
  const { settings, layout } = ctx;
  return withLock(layout.lockDir, 60_000, async () => {
    const stopped = await stopComponents(ctx, ['kafka', 'elasticsearch'], log);
    await clearAutoStarted(layout.leasesDir);
    const purged: string[] = [];
    if (options.purge === true) {
      // Under the system placement the run dir's parent belongs to this state dir alone.
      const esRunDir = layout.elasticsearch.runDir.startsWith(`${SYSTEM_STATE_DIR}/stacks/`) ? dirname(layout.elasticsearch.runDir) : layout.elasticsearch.runDir;
      for (const path of [join(settings.stateDir, 'kafka'), esRunDir, layout.passwordFile, layout.logsDir, layout.tlsDir]) {
        await rm(path, { recursive: true, force: true });
        purged.push(path);
      }
      await rm(placementFile(settings), { force: true });
      log(`purged data, logs, credentials and certificates (${purged.join(', ')})`);
    }
    return { stopped, purged };
  });
}

/**
 * Ends this process's use of the stack (taken with `stackUp({ lease: true })`). When no
 * other live process holds a lease, the components that leased runs started are stopped;
 * a stack someone started by hand is never stopped here.
 */
export async function releaseStackLease(options: StackOptions): Promise<StackDownResult['stopped']> {
  const log = options.log ?? ((): void => undefined);
  const ctx = await resolveContext(options.settings, false);
  const { layout } = ctx;
  return withLock(layout.lockDir, 60_000, async () => {
    await removeLease(layout.leasesDir, process.pid);
    const others = await liveLeases(layout.leasesDir);
    const auto = await readAutoStarted(layout.leasesDir);
    if (auto.length === 0) return [];
    if (others.length > 0) {
      log(`leaving ${auto.join(', ')} running: still used by pid ${others.join(', ')}`);
      return [];
    }
    const stopped = await stopComponents(ctx, auto, log);
    await clearAutoStarted(layout.leasesDir);
    return stopped;
  });
}

export interface ComponentStatus {
  component: Component;
  running: boolean;
  /** Running in TLS mode (`stack up --tls`). */
  tls: boolean;
  pid: number | undefined;
  ports: number[];
  version: string | undefined;
  health: ProbeResult | undefined;
  logFiles: string[];
}

export interface StackStatus {
  stateDir: string;
  info: StackInfo | undefined;
  components: ComponentStatus[];
}

/** What runs, with a live health check of each running component. */
export async function stackStatus(options: StackOptions): Promise<StackStatus> {
  const ctx = await resolveContext(options.settings, false);
  const { settings, layout } = ctx;
  const records = await readRecords(layout);
  const info = await readStackInfoFile(layout.stackJson);
  const components: ComponentStatus[] = [];
  for (const c of ['kafka', 'elasticsearch'] as const) {
    const record = records[c];
    const running = await isRecordAlive(record);
    let health: ProbeResult | undefined;
    if (running && info !== undefined) {
      const targets = probeTargets(info.kafka.brokers, info.tls);
      health =
        c === 'kafka'
          ? await probeKafka(targets.kafka, { createTopic: false })
          : await probeElasticsearch(info.elasticsearch.url, { username: info.elasticsearch.username, password: info.elasticsearch.password }, targets.elasticsearch);
    }
    const ports =
      c === 'kafka'
        ? [info?.kafka.port ?? settings.kafka.port, info?.kafka.controllerPort ?? settings.kafka.controllerPort]
        : [info?.elasticsearch.port ?? settings.elasticsearch.port, info?.elasticsearch.transportPort ?? settings.elasticsearch.transportPort];
    components.push({
      component: c,
      running,
      tls: running && record?.tls === true,
      pid: running ? record?.pid : undefined,
      ports,
      version: c === 'kafka' ? (info?.kafka.version ?? settings.kafka.version) : (info?.elasticsearch.version ?? settings.elasticsearch.version),
      health,
      logFiles: logFilesOf(layout, c),
    });
  }
  const allRunning = components.every((c) => c.running);
  return { stateDir: settings.stateDir, info: allRunning ? info : undefined, components };
}

/**
 * How to reach the local stack, or undefined when it is not up. Reads stack.json and
 * checks that both recorded processes are alive (cheap: no network).
 */
export async function readStackInfo(options: Pick<StackOptions, 'settings'>): Promise<StackInfo | undefined> {
  const { settings } = options;
  // stack.json and the pid files live in the state dir whatever the placement.
  const layoutNoPlacement = buildLayout(settings);
  try {
    const info = await readStackInfoFile(layoutNoPlacement.stackJson);
    if (info === undefined) return undefined;
    const records = await readRecords(layoutNoPlacement);
    if (!(await isRecordAlive(records.kafka)) || !(await isRecordAlive(records.elasticsearch))) return undefined;
    return info;
  } catch (error) {
    if (isCalwatchError(error, 'STACK_STATE_INVALID')) return undefined;
    throw error;
  }
}
