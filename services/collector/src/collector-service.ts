import type { Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { FastifyServerFactory } from 'fastify';
import { type KafkaClient, type Producer } from '@calwatch/kafka';
import { buildTopicNames, SHARED_ERRORS } from '@calwatch/model';
import { type Logger, type Service } from '@calwatch/runtime';
import type { CollectorConfig } from './config';
import { createDropFolder, type DropFolder } from './drop-folder';
import { COLLECTOR_ERRORS } from './errors';
import { screenEvents } from './event-screen';
import { buildCollectorApp, buildServerTimeouts, type CollectorApp, type HttpLimits, type ParseFn, type Readiness } from './http-app';
import { createAuthFailureLimiter } from './auth-failure-limiter';
import { createInFlightBudget } from './in-flight-budget';
import { createIngestor } from './ingestor';
import { createKafkaAvailability, withAvailability } from './kafka-availability';
import { createKafkaPublisher } from './kafka-publisher';
import { createCollectorMetrics, type CollectorMetrics } from './metrics';
import { createSnapshotCoordinator } from './snapshot-coordinator';
import { restoreSnapshotState, snapshotStateRestoreRetry } from './state-restore';
import { buildHttpsServerOptions, createTlsReloader, type TlsFilePaths, type TlsReloader } from './tls-files';
import { createTokenStore } from './token-auth';
import { createTokensFile, type TokensFile } from './tokens-file';

export type CollectorState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface CollectorService extends Service {
  readonly state: CollectorState;
  /** Where the HTTP API listens, once started. */
  address(): { host: string; port: number } | undefined;
  /** Re-reads the tokens file and rescans the drop folder (SIGHUP). */
  reload(): Promise<void>;
  readonly metrics: CollectorMetrics;
}

export interface CollectorServiceOptions {
  config: CollectorConfig;
  logger: Logger;
  kafka: KafkaClient;
  now?: () => Date;
  /** The parser of request bodies and drop-folder files; the shared one unless a test or benchmark passes another. */
  parse?: ParseFn;
  /** Process metrics (event loop, memory); off in tests that build several collectors. */
  defaultMetrics?: boolean;
  /** Kafka stayed unavailable past KAFKA_OUTAGE_BUDGET_MS: the process should exit non-zero. */
  onFatal?: (error: Error) => void;
}

/**
 * The collector: HTTP ingest API and drop folder in front of the Kafka producer, with the
 * snapshot state of every license server restored from its compacted topic at start.
 */
export function createCollectorService(options: CollectorServiceOptions): CollectorService {
  const { config, kafka } = options;
  const logger = options.logger.child({ component: 'collector' });
  const now = options.now ?? (() => new Date());
  const topics = buildTopicNames(config.topicPrefix);
  const metrics = createCollectorMetrics({ defaultMetrics: options.defaultMetrics ?? true });
  const tokens = createTokenStore();
  const availability = createKafkaAvailability({
    retryIntervalMs: config.kafkaRetryIntervalMs,
    outageBudgetMs: config.kafka.outageBudgetMs,
    onOutageExceeded: (failingForMs) => {
      // Not ready (503) rode the outage out; past the budget a restart is the better bet.
      const error = SHARED_ERRORS.create('SHARED_KAFKA_OUTAGE_EXCEEDED', `Kafka has not taken records for ${failingForMs} ms (budget ${config.kafka.outageBudgetMs} ms)`, {
        context: { failingForMs, outageBudgetMs: config.kafka.outageBudgetMs },
      });
      logger.error({ err: error }, 'Kafka unavailable past the outage budget; the collector stops');
      options.onFatal?.(error);
    },
  });
  const budget = createInFlightBudget({ maxRequests: config.http.maxInFlightRequests, maxBytes: config.http.maxInFlightBytes });

  let state: CollectorState = 'idle';
  let restored = false;
  let producer: Producer | undefined;
  let app: CollectorApp | undefined;
  let tokensFile: TokensFile | undefined;
  let tlsReloader: TlsReloader | undefined;
  let dropFolder: DropFolder | undefined;
  let stopping: Promise<void> | undefined;

  function readiness(): Readiness {
    const serving = state === 'running' && restored;
    const kafkaHealthy = availability.isHealthy();
    return {
      ready: serving && kafkaHealthy,
      serving,
      checks: { state, snapshotState: restored ? 'restored' : 'restoring', kafka: kafkaHealthy ? 'ok' : 'unavailable' },
    };
  }

  async function checkTopics(): Promise<number> {
    const admin = await kafka.createAdmin();
    try {
      const existing = new Set(await admin.listTopics());
      const needed = [topics.events, topics.deadLetter, topics.snapshotState];
      const missing = needed.filter((topic) => !existing.has(topic));
      if (missing.length > 0) {
        throw COLLECTOR_ERRORS.create(
          'COLLECTOR_TOPICS_MISSING',
          `topics missing: ${missing.join(', ')}; run \`calwatch setup\` (with CALWATCH_TOPIC_PREFIX=${config.topicPrefix}) first`,
          { context: { missing } },
        );
      }
      return await admin.partitionCount(topics.snapshotState);
    } finally {
      await admin.close();
    }
  }

  async function start(): Promise<void> {
    if (state !== 'idle') throw new Error(`collector cannot start from state ${state}`);
    state = 'starting';
    try {
      tokens.replace('env', config.auth.tokens);
      if (config.auth.tokensFile !== undefined) {
        tokensFile = createTokensFile({ path: config.auth.tokensFile, store: tokens, logger, pollMs: config.auth.tokensFilePollMs });
        await tokensFile.load();
        tokensFile.watch();
      }
      if (tokens.count() === 0) logger.warn('no bearer token configured: every ingest request will get 401');

      const statePartitions = await checkTopics();
      // Fail fast: a Kafka outage becomes 503 with Retry-After (the client retries), not a request held for minutes.
      producer = await kafka.createProducer({ idempotent: true, compress: true, outageBudgetMs: 0 });
      const publisher = withAvailability(
        createKafkaPublisher({
          producer,
          topics,
          maxBatchRecords: config.publishBatchRecords,
          onSend: (seconds) => metrics.publishSeconds.observe(seconds),
        }),
        availability,
      );
      const coordinator = createSnapshotCoordinator({ publisher, screen: (events, ref) => screenEvents(events, ref, now().toISOString(), config.maxEventTimeSkewMs),
      });
      const ingestor = createIngestor({
        publisher,
        snapshots: coordinator,
        batchRecords: config.publishBatchRecords,
        maxReportedRejections: config.maxReportedRejections,
        maxEventTimeSkewMs: config.maxEventTimeSkewMs,
        now,
        onRecords: (outcome, code, source, count) => metrics.records.inc({ outcome, code, source }, count),
      });

      const limits: HttpLimits = {
        maxBodyBytes: config.http.maxBodyBytes,
        maxDecompressedBytes: config.http.maxDecompressedBytes,
        maxClockSkewMs: config.maxClockSkewMs,
        retryAfterSeconds: config.http.retryAfterSeconds,
        requestTimeoutMs: config.http.requestTimeoutMs,
        headersTimeoutMs: config.http.headersTimeoutMs,
        idleTimeoutMs: config.http.idleTimeoutMs,
        keepAliveTimeoutMs: config.http.keepAliveTimeoutMs,
      };
      let serverFactory: FastifyServerFactory | undefined;
      if (config.tls.certFile !== undefined && config.tls.keyFile !== undefined) {
        const paths: TlsFilePaths = {
          certFile: config.tls.certFile,
          keyFile: config.tls.keyFile,
          ...(config.tls.caFile === undefined ? {} : { caFile: config.tls.caFile }),
        };
        const reloader = createTlsReloader({
          paths,
          apply: (context) => (app?.server as unknown as HttpsServer | undefined)?.setSecureContext(context),
          logger,
          pollMs: config.tls.reloadPollMs,
        });
        tlsReloader = reloader;
        const serverOptions = { ...buildHttpsServerOptions(await reloader.load(), paths), ...buildServerTimeouts(limits) };
        // fastify types its server as http.Server; an https.Server serves the same requests.
        serverFactory = (handler) => createHttpsServer(serverOptions, handler) as unknown as HttpServer;
      }

      app = buildCollectorApp({
        logger,
        tokens,
        authLimiter: createAuthFailureLimiter({ maxFailures: config.auth.maxFailures, windowMs: config.auth.failureWindowMs }),
        ingestor,
        budget,
        availability,
        metrics,
        limits,
        readiness,
        deadLetterRequest: (deadLetter) => publisher.publish([], [deadLetter]),
        ...(options.parse === undefined ? {} : { parse: options.parse }),
        ...(serverFactory === undefined ? {} : { serverFactory }),
        now,
      });
      // Listen first: /healthz answers and /readyz says "restoring" while the state loads.
      await app.listen({ host: config.http.host, port: config.http.port });
      state = 'running';
      tlsReloader?.watch();
      logger.info({ address: app.addresses()[0], tls: tlsReloader !== undefined }, 'HTTP API listening');

      // Leadership may still be moving right after setup or a broker restart: retry a while.
      const stats = await restoreSnapshotState({
        kafka,
        topic: topics.snapshotState,
        partitions: statePartitions,
        coordinator,
        logger,
        retry: snapshotStateRestoreRetry(logger),
      });
      restored = true;
      logger.info(stats, 'snapshot state restored');

      if (config.dropFolder.dir !== undefined) {
        dropFolder = createDropFolder({
          dir: config.dropFolder.dir,
          ingestor,
          logger,
          stableMs: config.dropFolder.stableMs,
          scanIntervalMs: config.dropFolder.scanIntervalMs,
          canPublish: () => state === 'running' && availability.tryEnter(),
          onOutcome: (outcome) => metrics.dropFiles.inc({ outcome }),
          limits: { maxBytes: config.http.maxBodyBytes, maxDecompressedBytes: config.http.maxDecompressedBytes },
          ...(options.parse === undefined ? {} : { parse: options.parse }),
          now,
        });
        await dropFolder.start();
      }
    } catch (error) {
      await stop();
      throw error;
    }
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      state = 'stopping';
      const errors: unknown[] = [];
      const attempt = async (step: () => Promise<void> | void): Promise<void> => {
        try {
          await step();
        } catch (error) {
          errors.push(error);
        }
      };
      // Reverse order of start: stop taking work, let in-flight requests finish, close Kafka.
      await attempt(() => dropFolder?.stop());
      await attempt(() => tokensFile?.close());
      await attempt(() => tlsReloader?.close());
      await attempt(() => app?.close());
      await attempt(() => producer?.close());
      state = 'stopped';
      if (errors.length > 0) throw errors[0];
    })();
    return stopping;
  }

  return {
    start,
    stop,
    get state() {
      return state;
    },
    address() {
      const info = app?.server.address() as AddressInfo | null | undefined;
      return info === null || info === undefined || typeof info === 'string' ? undefined : { host: info.address, port: info.port };
    },
    async reload() {
      await tokensFile?.reload();
      await dropFolder?.scan();
    },
    metrics,
  };
}
