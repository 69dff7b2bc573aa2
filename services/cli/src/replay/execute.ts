import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createKafkaClient, ensureCalwatchTopics, type KafkaClient } from '@calwatch/kafka';
import { buildTopicNames } from '@calwatch/model';
import { CALWATCH_VERSION, createLogger, type Logger } from '@calwatch/runtime';
import { loadProcessorConfig } from '@calwatch/processor';
import { resolveServiceEnv } from '../service-env';
import { loadReplayConfig, namespacePrefixes, slugOf, type ReplayConfig } from './config';
import { waitUntilDrained } from './drain';
import { REPLAY_ERRORS } from './errors';
import { readDeadLetterCounts } from './dead-letters';
import { readLatestFindings, summariseFindings, type FindingsSummary } from './findings';
import { createHttpSink } from './http-sink';
import { planInputs, snapshotTimeWarnings } from './inputs';
import { createKafkaSink } from './kafka-sink';
import { buildReplayDetection } from './lateness';
import { createPipelineServices, type PipelineServices } from './pipeline-services';
import { createProgressBar } from './progress';
import { runReplay, type ReplayRunResult } from './replay-run';
import type { ReplaySink } from './sink';
import { renderReplaySummary, type ReplayReport } from './summary';

export interface ReplayOptions {
  paths: string[];
  /** Namespace name; ignored with `live`. */
  namespace: string;
  live: boolean;
  collectorUrl?: string;
  token?: string;
  speed?: number;
  process: boolean;
  drainTimeoutMs: number;
  resume: boolean;
  checkpointPath?: string;
  licenseServer?: string;
  batchRecords: number;
  json: boolean;
}

export interface ReplayIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  cwd: string;
  signal: AbortSignal;
}

/** Exit codes of `calwatch replay`. */
export const REPLAY_EXIT = { ok: 0, error: 1, usage: 2, notDrained: 3, interrupted: 130 } as const;

interface Target {
  topicPrefix: string;
  indexPrefix: string | null;
  groupPrefix: string | null;
  /** A namespace replay creates its topics; a live one expects them. */
  namespace: boolean;
}

function targetOf(options: ReplayOptions, config: ReplayConfig): Target {
  if (options.live) return { topicPrefix: config.topicPrefix, indexPrefix: null, groupPrefix: null, namespace: false };
  return { ...namespacePrefixes(options.namespace), namespace: true };
}

function openLogFile(path: string): WriteStream {
  return createWriteStream(path, { flags: 'a' });
}

async function prepareTopics(kafka: KafkaClient, target: Target, config: ReplayConfig): Promise<void> {
  const names = buildTopicNames(target.topicPrefix);
  if (target.namespace) {
    await ensureCalwatchTopics(kafka, names, config.topicLayout);
    return;
  }
  const admin = await kafka.createAdmin();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [names.events, names.deadLetter, names.snapshotState].filter((t) => !existing.has(t));
    if (missing.length > 0) {
      throw REPLAY_ERRORS.create('REPLAY_TOPICS_MISSING', `live topics missing: ${missing.join(', ')}; run \`calwatch setup\` first`, { context: { missing } });
    }
  } finally {
    await admin.close();
  }
}

/**
 * `calwatch replay`: wiring only. Plans the inputs, prepares the target, optionally starts
 * the namespace's processor and indexer, runs the replay, waits for the pipeline to drain,
 * and prints the summary.
 */
export async function executeReplay(options: ReplayOptions, io: ReplayIo): Promise<number> {
  const env = await resolveServiceEnv(io.env);
  const config = loadReplayConfig(env);
  const target = targetOf(options, config);
  const plan = await planInputs(options.paths, { cwd: io.cwd });
  for (const input of plan.inputs) if (input.snapshotTimeWarning !== undefined) io.stderr.write(`calwatch replay: warning: ${input.snapshotTimeWarning}\n`);

  const sinkTarget = options.collectorUrl ?? `kafka:${target.topicPrefix}`;
  const replayDir = config.replayDir;
  await mkdir(replayDir, { recursive: true });
  const slug = slugOf(sinkTarget);
  const checkpointPath = options.checkpointPath === undefined ? join(replayDir, `${slug}.json`) : resolve(io.cwd, options.checkpointPath);
  const logFile = join(replayDir, `${slug}.log`);
  const logStream = openLogFile(logFile);
  const logger: Logger = createLogger({ service: 'replay', version: CALWATCH_VERSION, level: config.logLevel, destination: logStream });

  const needsKafka = options.collectorUrl === undefined || options.process;
  const kafka = needsKafka ? createKafkaClient({ connection: config.kafka, logger: logger.child({ component: 'kafka' }) }) : undefined;
  const failure = new AbortController();
  const stop = AbortSignal.any([io.signal, failure.signal]);
  let services: PipelineServices | undefined;
  let fatal: Error | undefined;

  try {
    if (kafka !== undefined) await prepareTopics(kafka, target, config);
    let latenessNote: string | undefined;
    if (options.process && kafka !== undefined && target.indexPrefix !== null && target.groupPrefix !== null) {
      const { detection, note } = buildReplayDetection(loadProcessorConfig(env).detectionConfig, plan.inputs, (path) => readFileSync(path, 'utf8'));
      latenessNote = note;
      services = createPipelineServices({
        env,
        kafka,
        logger,
        topicPrefix: target.topicPrefix,
        indexPrefix: target.indexPrefix,
        groupPrefix: target.groupPrefix,
        detection,
        suspendRefresh: true,
        onFatal: (error) => {
          fatal = error;
          failure.abort();
        },
      });
      await services.start();
    }

    let sink: ReplaySink;
    if (options.collectorUrl !== undefined) {
      const token = options.token ?? config.collectorToken;
      sink = createHttpSink({
        url: options.collectorUrl,
        token: token ?? '',
        logger,
        signal: stop,
        ...(options.licenseServer === undefined ? {} : { licenseServer: options.licenseServer }),
      });
    } else {
      sink = createKafkaSink({ kafka: kafka!, topicPrefix: target.topicPrefix, logger, batchRecords: options.batchRecords, signal: stop });
    }

    const result: ReplayRunResult = await runReplay({
      plan,
      sink,
      batchRecords: options.batchRecords,
      checkpoint: { path: checkpointPath, resume: options.resume },
      signal: stop,
      progress: createProgressBar(io.stderr),
      ...(options.speed === undefined ? {} : { speed: options.speed }),
      ...(options.licenseServer === undefined ? {} : { licenseServer: options.licenseServer }),
    });
    if (fatal !== undefined) throw fatal;

    let findings: FindingsSummary | undefined;
    let drained: boolean | undefined;
    let deadLetters: Record<string, number> | undefined;
    if (services !== undefined && kafka !== undefined && !result.interrupted) {
      if (io.stderr.isTTY === true) io.stderr.write('calwatch replay: waiting for the processor and indexer to catch up...\n');
      drained = await waitUntilDrained({
        kafka,
        targets: services.drainTargets,
        quietTopics: services.quietTopics,
        quietMs: services.quietMs,
        timeoutMs: options.drainTimeoutMs,
        signal: stop,
        onReadFailed: (error) => logger.warn({ err: error }, 'could not read the pipeline offsets; trying again'),
      });
      if (fatal !== undefined) throw fatal;
      findings = summariseFindings(await readLatestFindings(kafka, buildTopicNames(target.topicPrefix).findings));
      deadLetters = await readDeadLetterCounts(kafka, buildTopicNames(target.topicPrefix).deadLetter);
    }

    const report: ReplayReport = {
      plan,
      result,
      target: options.collectorUrl === undefined ? `topics ${target.topicPrefix}*` : `collector ${options.collectorUrl}`,
      checkpointPath,
      logFile,
      ...(findings === undefined ? {} : { findings }),
      ...(drained === undefined ? {} : { drained }),
      ...(deadLetters === undefined ? {} : { deadLetters }),
      ...(latenessNote === undefined ? {} : { latenessNote }),
    };
    if (services !== undefined) report.target += ` (indices ${services.indexNames.prefix}*)`;
    io.stdout.write(options.json ? JSON.stringify({ ...report, plan: { inputs: plan.inputs.length, skipped: plan.skipped, totalBytes: plan.totalBytes, snapshotTimeWarnings: snapshotTimeWarnings(plan) } }, null, 2) + '\n' : renderReplaySummary(report));
    if (result.interrupted) {
      io.stderr.write('calwatch replay: REPLAY_INTERRUPTED: stopped after the send in flight; continue with --resume\n');
      return REPLAY_EXIT.interrupted;
    }
    if (drained === false) {
      io.stderr.write(`calwatch replay: REPLAY_DRAIN_TIMEOUT: the pipeline did not catch up within ${Math.round(options.drainTimeoutMs / 1000)} s\n`);
      return REPLAY_EXIT.notDrained;
    }
    return REPLAY_EXIT.ok;
  } finally {
    await services?.stop().catch((error: unknown) => logger.error({ err: error }, 'stopping the in-process services failed'));
    logger.flush();
    await new Promise<void>((done) => logStream.end(done));
  }
}
