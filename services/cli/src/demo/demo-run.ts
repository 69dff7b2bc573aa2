import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createKafkaClient } from '@calwatch/kafka';
import { buildTopicNames, isCalwatchError } from '@calwatch/model';
import { CALWATCH_VERSION, createLogger, type Env } from '@calwatch/runtime';
import { simulateFleet, writeFleet, type GroundTruth } from '@calwatch/simulator';
import { createCollectorService, loadCollectorConfig } from '@calwatch/collector';
import { createNotifierService, loadNotifierConfig } from '@calwatch/notifier';
import type { CommandIo } from '../commands/registry';
import { loadReplayConfig } from '../replay/config';
import { waitUntilDrained } from '../replay/drain';
import { summariseFindings } from '../replay/findings';
import { createHttpSink } from '../replay/http-sink';
import { planInputs } from '../replay/inputs';
import { buildReplayDetection } from '../replay/lateness';
import { createPipelineServices } from '../replay/pipeline-services';
import { runReplay } from '../replay/replay-run';
import { loadStackSettings, readStackInfo, stackUp, type StackInfo } from '@calwatch/stack';
import { buildDemoFleetConfig } from './fleet';
import { createLiveView, type LiveView } from './findings-view';
import { watchFindings, type FindingsWatch } from './findings-watch';
import { resetNamespace } from './namespace';
import { scoreDetection } from './score';
import { renderDemoSummary } from './summary';
import { createPageTally } from './page-tally';
import { formatPage, startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';

const DAY_MS = 86_400_000;

export interface DemoOptions {
  /** Wall time the simulated window is streamed over. */
  durationMs: number;
  devices: number;
  days: number;
  seed: number;
  keepRunning: boolean;
  /** Topics `calwatch.<namespace>.*`, indices `calwatch-<namespace>-*`. */
  namespace: string;
  /** How long to wait for the pipeline to catch up after the stream. */
  drainTimeoutMs: number;
}

export const DEMO_EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** A step of the demo failed: the message names the step. */
class StepError extends Error {
  constructor(
    readonly step: string,
    override readonly cause: unknown,
  ) {
    super(describe(cause));
  }
}

function describe(error: unknown): string {
  if (isCalwatchError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** Only connection variables reach the services: a user's COLLECTOR_DROP_DIR or prefixes must not leak into the demo. */
function connectionEnv(env: Env): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && (key.startsWith('KAFKA_') || key.startsWith('ELASTICSEARCH_'))) picked[key] = value;
  }
  return picked;
}

/**
 * `calwatch demo`: the whole pipeline on the local stack with a simulated fleet streamed
 * through the collector's HTTP API. Every step says what it does; a failed step ends the
 * demo with its name and the reason; services stop in reverse order whatever happens.
 */
export async function runDemo(options: DemoOptions, io: CommandIo): Promise<number> {
  const startedMs = Date.now();
  const out = io.stdout;
  let view: LiveView | undefined;
  const say = (line: string): void => {
    if (view !== undefined) view.note(line);
    else out.write(`${line}\n`);
  };
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw error instanceof StepError ? error : new StepError(name, error);
    }
  };
  const stops: Array<{ name: string; stop: () => Promise<void> }> = [];
  const failure = new AbortController();
  const signal = AbortSignal.any([io.signal, failure.signal]);
  let fatal: Error | undefined;
  const onFatal = (error: Error): void => {
    fatal = error;
    failure.abort();
  };
  let usedStack = false;
  let exitCode: number = DEMO_EXIT.ok;

  try {
    // 1. Kafka and Elasticsearch: the user's when they named others than the local stack's.
    const stackSettings = loadStackSettings(io.env);
    const known = await readStackInfo({ settings: stackSettings }).catch(() => undefined);
    const isStack =
      known !== undefined && io.env.KAFKA_BROKERS === known.kafka.brokers.join(',') && io.env.ELASTICSEARCH_URL === known.elasticsearch.url;
    let env: Env = io.env;
    let stackInfo: StackInfo | undefined;
    if (io.env.KAFKA_BROKERS !== undefined && io.env.ELASTICSEARCH_URL !== undefined && !isStack) {
      say(`==> Kafka ${io.env.KAFKA_BROKERS} and Elasticsearch ${io.env.ELASTICSEARCH_URL} (from the environment)`);
    } else {
      say('==> Local stack (Kafka + Elasticsearch): starting it, or reusing it when it runs');
      stackInfo = (await step('local stack', () => stackUp({ settings: stackSettings, log: (line) => say(`    ${line}`), signal: io.signal }))).info;
      usedStack = true;
      env = {
        ...io.env,
        KAFKA_BROKERS: stackInfo.kafka.brokers.join(','),
        ELASTICSEARCH_URL: stackInfo.elasticsearch.url,
        ELASTICSEARCH_USERNAME: stackInfo.elasticsearch.username,
        ELASTICSEARCH_PASSWORD: stackInfo.elasticsearch.password,
      };
    }
    const config = await step('setup', async () => loadReplayConfig(env));
    const topicPrefix = `calwatch.${options.namespace}.`;
    const indexPrefix = `calwatch-${options.namespace}-`;
    const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
    const groupPrefix = `calwatch-${options.namespace}-${runId}`;
    const topics = buildTopicNames(topicPrefix);
    const logDir = join(config.stateDir, 'demo');
    await step('setup', () => mkdir(logDir, { recursive: true }));
    const logFile = join(logDir, `${options.namespace}.log`);
    const logStream = createWriteStream(logFile, { flags: 'w' });
    const logger = createLogger({ service: 'demo', version: CALWATCH_VERSION, level: config.logLevel, destination: logStream });
    stops.push({
      name: 'logs',
      stop: async () => {
        logger.flush();
        await new Promise<void>((done) => logStream.end(done));
      },
    });
    const kafka = createKafkaClient({ connection: config.kafka, logger: logger.child({ component: 'kafka' }) });

    // 2. The simulated fleet, written as a license server would export it.
    const fleetDir = await mkdtemp(join(tmpdir(), 'calwatch-demo-'));
    stops.push({ name: 'fleet files', stop: () => rm(fleetDir, { recursive: true, force: true }) });
    const fleetConfig = buildDemoFleetConfig({ devices: options.devices, days: options.days, seed: options.seed }, startedMs);
    say(`==> Simulating ${options.devices} devices over ${options.days} days (seed ${options.seed}): snapshots, licensing events, client stores`);
    const written = await step('simulation', () => writeFleet(simulateFleet(fleetConfig), { outDir: join(fleetDir, 'fleet'), formats: ['ps51-csv', 'winlogbeat'] }));
    const truth: GroundTruth = written.truth!;
    const causes = new Map<string, number>();
    for (const s of truth.scenarios) causes.set(s.kind, (causes.get(s.kind) ?? 0) + 1);
    say(`    ${truth.totals.licensesIssued} licenses issued, pool of ${truth.settings.pool}; causes: ${[...causes].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    const plan = await step('simulation', () => planInputs(['fleet/ps51-csv', 'fleet/winlogbeat', 'fleet/client-stores'], { cwd: fleetDir }));

    // 3. Topics and templates, fresh for this run.
    const wallPerDayMs = options.durationMs / options.days;
    // A partition idle this long releases what it buffered: longer than a simulated day takes.
    const idleAfterMs = Math.max(2_000, Math.ceil(3 * wallPerDayMs));
    const base = connectionEnv(env);
    const serviceEnv = { ...base, LOG_LEVEL: config.logLevel, CALWATCH_TOPIC_PREFIX: topicPrefix };
    const { detection } = buildReplayDetection(undefined, plan.inputs, () => '');
    const pipeline = createPipelineServices({
      env: { ...serviceEnv, PROCESSOR_IDLE_AFTER_MS: String(idleAfterMs), PROCESSOR_PUNCTUATE_INTERVAL_MS: '500', INDEXER_RETRY_MAX_DELAY_MS: '5000' },
      kafka,
      logger,
      topicPrefix,
      indexPrefix,
      groupPrefix,
      detection,
      suspendRefresh: false,
      onFatal,
    });
    stops.push({ name: 'Elasticsearch client', stop: () => pipeline.stop() });
    say(`==> Setup: topics ${topicPrefix}* and indices ${indexPrefix}* (reset for this run)`);
    await step('setup', () =>
      resetNamespace({
        kafka,
        elasticsearch: pipeline.elasticsearch,
        topics,
        layout: config.topicLayout,
        indexPrefix,
        signal,
      }),
    );

    // 4. The services, in this process.
    say('==> Starting collector, processor, indexer and notifier (in this process), and a local webhook receiver');
    const pages = createPageTally();
    const receiverRef: WebhookReceiver = await step('services', () =>
      startWebhookReceiver((page) => {
        pages.add(page);
        say(formatPage(page));
      }),
    );
    stops.push({ name: 'webhook receiver', stop: () => receiverRef.close() });
    const token = randomBytes(24).toString('hex');
    const collector = createCollectorService({
      config: loadCollectorConfig({ ...serviceEnv, COLLECTOR_HOST: '127.0.0.1', COLLECTOR_PORT: '0', COLLECTOR_TOKENS: token }),
      logger: logger.child({ service: 'collector' }),
      kafka,
      defaultMetrics: false,
    });
    await step('services', async () => {
      stops.push({ name: 'collector', stop: () => collector.stop() });
      await collector.start();
      // Idempotent: the first call (reverse order) stops indexer and processor, the later one is a no-op.
      stops.push({ name: 'processor and indexer', stop: () => pipeline.stop() });
      await pipeline.start();
      const notifier = createNotifierService({
        config: loadNotifierConfig({
          // Probes on a free port: a standalone notifier may hold the default.
          NOTIFIER_METRICS_PORT: '0',
          ...serviceEnv,
          NOTIFIER_TARGETS: JSON.stringify([{ name: 'demo', type: 'webhook', url: receiverRef.url, minSeverity: 'info' }]),
          NOTIFIER_GROUP_ID: `${groupPrefix}-notifier`,
          NOTIFIER_FROM_BEGINNING: 'true',
          NOTIFIER_TICK_INTERVAL_MS: '1000',
          NOTIFIER_RETRY_MAX_DELAY_MS: '5000',
        }),
        logger: logger.child({ service: 'notifier' }),
        kafka,
        onFatal,
      });
      stops.push({ name: 'notifier', stop: () => notifier.stop() });
      await notifier.start();
    });
    const address = collector.address()!;
    const collectorUrl = `http://127.0.0.1:${address.port}`;
    say(`    collector API ${collectorUrl}, webhook ${receiverRef.url}`);

    // 5. Findings as they arrive.
    view = createLiveView(out);
    const liveView = view;
    stops.push({ name: 'view', stop: async () => liveView.close() });
    const watch: FindingsWatch = await step('services', () =>
      watchFindings({ kafka, topic: topics.findings, groupId: `${groupPrefix}-view`, onChange: (previous, next) => liveView.finding(previous, next) }),
    );
    stops.push({ name: 'findings view', stop: () => watch.stop() });

    // 6. The stream, through the collector's HTTP API, the window compressed into the duration.
    const windowStartMs = Date.parse(truth.window.start);
    const windowMs = Date.parse(truth.window.end) - windowStartMs;
    say(`==> Streaming ${options.days} days of the fleet in ${Math.round(options.durationMs / 1000)} s (Ctrl-C stops)`);
    const result = await step('streaming', () =>
      runReplay({
        plan,
        sink: createHttpSink({ url: collectorUrl, token, logger, signal, maxRetryMs: 60_000 }),
        speed: windowMs / options.durationMs,
        batchRecords: 500,
        signal,
        onSent: (at, totals) => {
          const pct = at === null ? 0 : Math.max(0, Math.min(100, Math.round(((at - windowStartMs) / windowMs) * 100)));
          const when = at === null ? '-' : new Date(at).toISOString().slice(0, 16).replace('T', ' ');
          liveView.status(`Streaming ${pct}% | event time ${when}Z | ${totals.records.toLocaleString('en-US')} records, ${totals.events.toLocaleString('en-US')} events | ${receiverRef.count()} pages`);
        },
      }),
    );
    if (fatal !== undefined) throw new StepError('services', fatal);
    const interrupted = result.interrupted;

    // 7. Let the pipeline catch up, then tell where everything is.
    let drained = false;
    if (!interrupted) {
      liveView.status('Stream done; waiting for the processor, indexer and notifier to catch up...');
      drained = await step('results', () =>
        waitUntilDrained({
          kafka,
          targets: [...pipeline.drainTargets, { groupId: `${groupPrefix}-notifier`, topics: [topics.findings, topics.enriched] }],
          quietTopics: pipeline.quietTopics,
          quietMs: pipeline.quietMs,
          timeoutMs: options.drainTimeoutMs,
          signal,
        }),
      );
      if (fatal !== undefined) throw new StepError('services', fatal);
    }
    liveView.status(interrupted ? 'Interrupted.' : drained ? 'Caught up.' : 'Stopped waiting for the pipeline.');
    const names = pipeline.indexNames;
    let documents: number | null = null;
    try {
      await pipeline.elasticsearch.indices.refresh({ index: names.findingsAlias });
      documents = (await pipeline.elasticsearch.count({ index: names.findingsAlias })).count;
    } catch (error) {
      logger.warn({ err: error }, 'counting findings in Elasticsearch failed');
    }
    liveView.close();
    view = undefined;

    const findings = watch.latest();
    const esUrl = env.ELASTICSEARCH_URL ?? 'http://127.0.0.1:9200';
    const auth =
      stackInfo !== undefined
        ? `-u "${stackInfo.elasticsearch.username}:$(cat ${stackInfo.elasticsearch.passwordFile})" `
        : env.ELASTICSEARCH_USERNAME !== undefined
          ? '-u "$ELASTICSEARCH_USERNAME:$ELASTICSEARCH_PASSWORD" '
          : '';
    out.write(
      renderDemoSummary({
        interrupted,
        drained,
        durationMs: Date.now() - startedMs,
        devices: options.devices,
        days: options.days,
        records: result.totals.records,
        events: result.totals.events,
        rejected: result.totals.rejected,
        findings: summariseFindings(findings),
        scores: scoreDetection(findings, truth),
        pages: pages.result(),
        elasticsearch: { index: names.findingsAlias, documents, curl: `curl -s ${auth}'${esUrl}/${names.findingsAlias}/_search?q=calwatch.finding.state:open&size=5&pretty'` },
        kibana:
          `not part of the local stack; point a Kibana 8.x at ${esUrl}, then ` +
          `CALWATCH_INDEX_PREFIX=${indexPrefix} ./calwatch kibana import --url http://localhost:5601 (data views and the leakage dashboard)`,
        logFile,
      }),
    );
    if (interrupted) exitCode = DEMO_EXIT.interrupted;
    else if (options.keepRunning) {
      out.write(`\nServices keep running: collector API ${collectorUrl} (Bearer ${token}), topics ${topicPrefix}*. Ctrl-C stops them.\n`);
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      });
      if (fatal !== undefined) throw new StepError('services', fatal);
    }
  } catch (error) {
    view?.close();
    view = undefined;
    if (error instanceof StepError) {
      out.write(`\ncalwatch demo: step '${error.step}' failed: ${error.message}\n`);
      exitCode = DEMO_EXIT.failed;
    } else throw error;
  } finally {
    view?.close();
    if (stops.length > 0) out.write('\n==> Stopping the demo services (reverse order)\n');
    for (const { name, stop } of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        out.write(`    stopping ${name} failed: ${describe(error)}\n`);
        if (exitCode === DEMO_EXIT.ok) exitCode = DEMO_EXIT.failed;
      }
    }
    if (usedStack) out.write('The local stack keeps running; `./calwatch stack down` stops it.\n');
  }
  return exitCode;
}
