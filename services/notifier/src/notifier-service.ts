import { startGroupLagReader, type Admin, type BatchContext, type Consumer, type IncomingRecord, type KafkaClient, type OutgoingRecord, type Producer } from '@calwatch/kafka';
import { boundDeadLetter, buildDeadLetterOriginal, buildTopicNames, isCalwatchError, type DeadLetter } from '@calwatch/model';
import {
  createPartitionProgress,
  createProbeServer,
  registerPartitionProgressGauges,
  registerReadyGauge,
  type ProbeServer,
  type Readiness,
  type Logger,
  type Service,
} from '@calwatch/runtime';
import type { Decision } from './alert-machine';
import { readStateTopic, toStateRecords } from './alert-state-topic';
import { toRoute, type NotifierConfig } from './config';
import { createDeliveryDispatcher, type DeliveryDispatcher } from './delivery-dispatcher';
import { NOTIFIER_ERRORS } from './errors';
import { createFetchPost, type HttpPost } from './http-client';
import { decodeEnriched, decodeFinding } from './input-decoder';
import { createNotifierMetrics, type NotifierMetrics } from './metrics';
import { createNotifierCore, type Delivery, type NotifierCore } from './notifier-core';
import { createTargetSender, type TargetSender } from './target-sender';

export interface NotifierServiceOptions {
  config: NotifierConfig;
  logger: Logger;
  kafka: KafkaClient;
  /** HTTP transport; defaults to Node's fetch. */
  post?: HttpPost;
  /** Wall clock; defaults to Date.now. */
  wallClock?: () => number;
  metrics?: NotifierMetrics;
  /** The consumer stopped for good: the process should stop. */
  onFatal?: (error: Error) => void;
  /** Kafka outages ridden out (the Kafka client's); /readyz is false while any lasts. */
  readiness?: Readiness;
}

/** How often the log ends and the group's committed offsets are read for the lag gauges. */
const LAG_READ_INTERVAL_MS = 5_000;

export type NotifierState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface NotifierService extends Service {
  readonly metrics: NotifierMetrics;
  state(): NotifierState;
  /** Port of /metrics, /healthz and /readyz once started. */
  readonly probePort: number | undefined;
}

/**
 * Consumes findings and enriched events, decides with the pure core, persists the state
 * (with the outbox of decided notifications and the input offsets it reflects) to the
 * compacted alert-state topic, and only then hands deliveries to the per-target
 * dispatcher. Offsets are committed after that, so a restart neither re-pages nor loses
 * a page or a resolve.
 */
export function createNotifierService(options: NotifierServiceOptions): NotifierService {
  const { config, kafka } = options;
  const logger = options.logger.child({ component: 'notifier' });
  const wallClock = options.wallClock ?? Date.now;
  const metrics = options.metrics ?? createNotifierMetrics();
  const names = buildTopicNames(config.topicPrefix);
  const core: NotifierCore = createNotifierCore({
    rules: config.rules,
    timing: config.timing,
    routes: config.targets.map(toRoute),
    links: config.links,
    idleAdvanceAfterMs: config.idleAdvanceAfterMs,
    digest: config.digest,
    digestLink: config.digestLink,
  });
  const post = options.post ?? createFetchPost();
  const senders = new Map<string, TargetSender>(
    config.targets.map((t) => [t.name, createTargetSender(t, { post, defaultTimeoutMs: config.delivery.timeoutMs, now: wallClock })]),
  );

  let state: NotifierState = 'new';
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;
  let dispatcher: DeliveryDispatcher | undefined;
  let metricsServer: ProbeServer | undefined;
  let probePort: number | undefined;
  let admin: Admin | undefined;
  let lagReader: { stop(): void } | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  // Decided but not yet handed over because the state write that must precede them failed.
  let heldDeliveries: Delivery[] = [];
  let heldDeadLetters: DeadLetter[] = [];

  // Batches, ticks and delivery receipts all mutate the core: one at a time.
  let chain: Promise<unknown> = Promise.resolve();
  function serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = chain.then(work);
    chain = run.catch(() => undefined);
    return run;
  }

  const isReady = (): boolean => state === 'running' && (options.readiness?.isReady() ?? true);
  registerReadyGauge(metrics, isReady, '1 while the notifier consumes and no Kafka outage holds it back, else 0 (as /readyz).');
  const progress = createPartitionProgress();
  registerPartitionProgressGauges(metrics, progress);

  function fatal(error: Error): void {
    if (state === 'stopping' || state === 'stopped') return;
    state = 'failed';
    logger.error({ err: error }, 'notifier stopped working');
    options.onFatal?.(error);
  }

  /**
   * The Kafka adapter retries a retriable send for its outage budget, so a state write that
   * still failed cannot succeed by waiting: stop loud rather than retry it every tick.
   */
  function failIfStuck(error: unknown): void {
    const cause = error instanceof Error ? error.cause : undefined;
    if (isCalwatchError(cause) && !cause.retriable) fatal(cause);
  }

  function record(decisions: readonly Decision[]): void {
    for (const d of decisions) {
      metrics.decisions.inc({ rule: d.rule, decision: d.kind });
      const fields = { dedupKey: d.dedupKey, rule: d.rule, decision: d.kind, severity: d.details.severity, cals: d.details.cals, at: new Date(d.at).toISOString() };
      if (d.kind === 'suppressed') logger.debug({ ...fields, reason: d.reason }, 'alert suppressed');
      else logger.info(fields, `alert ${d.kind}`);
    }
  }

  function refreshGauges(): void {
    metrics.openAlerts.reset();
    for (const alert of core.openAlerts()) metrics.openAlerts.inc({ rule: alert.rule });
    for (const name of senders.keys()) metrics.queueDepth.set({ target: name }, dispatcher?.depth(name) ?? 0);
  }

  /** Writes changed state (and dead letters) in one request, then releases the deliveries it covers. */
  async function flush(deadLetters: readonly DeadLetter[] = []): Promise<void> {
    const dirty = core.takeDirty(wallClock());
    const deliveries = [...heldDeliveries, ...core.takeDeliveries()];
    const letters = [...heldDeadLetters, ...deadLetters];
    const records: OutgoingRecord[] = [
      ...toStateRecords(names.alertState, dirty),
      ...letters.map((dl) => ({ topic: names.deadLetter, key: dl.location.ref, value: JSON.stringify(dl) })),
    ];
    try {
      if (producer === undefined) throw new Error('producer not started');
      await producer.send(records);
    } catch (error) {
      core.markDirty(dirty.map((r) => r.key));
      heldDeliveries = deliveries;
      heldDeadLetters = letters;
      throw NOTIFIER_ERRORS.create('NOTIFIER_STATE_WRITE_FAILED', 'could not write alert state', { cause: error });
    }
    heldDeliveries = [];
    heldDeadLetters = [];
    for (const dl of letters) metrics.deadLetters.inc({ code: dl.code });
    dispatcher?.enqueue(deliveries);
    refreshGauges();
  }

  async function handleBatch(records: readonly IncomingRecord[], context: BatchContext): Promise<void> {
    await serialize(async () => {
      const wall = wallClock();
      const at = new Date(wall).toISOString();
      const deadLetters: DeadLetter[] = [];
      const applied = core.appliedOffset(context.topic, context.partition);
      for (const incoming of records) {
        // Already folded into the persisted state before a crash: applying it again would double-count.
        if (applied !== undefined && BigInt(incoming.offset) <= BigInt(applied)) continue;
        metrics.inputRecords.inc({ input: incoming.topic === names.findings ? 'findings' : 'enriched' });
        if (incoming.topic === names.findings) {
          const decoded = decodeFinding(incoming, at);
          if (decoded.ok) core.applyFinding(decoded.value, wall);
          else deadLetters.push(decoded.deadLetter);
        } else {
          const decoded = decodeEnriched(incoming, at);
          if (decoded.ok) core.applyEnriched(decoded.value, wall);
          else deadLetters.push(decoded.deadLetter);
        }
        core.noteApplied(incoming.topic, incoming.partition, incoming.offset);
      }
      const decisions = core.decide(wall);
      for (const dl of deadLetters) logger.warn({ code: dl.code, ref: dl.location.ref, reason: dl.reason }, 'input dead-lettered');
      await flush(deadLetters);
      record(decisions);
      const last = records.at(-1);
      if (last !== undefined) progress.batchHandled(context.topic, context.partition, BigInt(last.offset) + 1n, BigInt(context.highWatermark));
    });
  }

  async function tick(): Promise<void> {
    await serialize(async () => {
      const decisions = core.tick(wallClock());
      await flush();
      record(decisions);
    });
  }

  function deadLetterOfDelivery(delivery: Delivery, code: string, reason: string): DeadLetter {
    return boundDeadLetter({
      schemaVersion: 1,
      at: new Date(wallClock()).toISOString(),
      code,
      reason,
      location: { ref: `notifier/target/${delivery.target}/${delivery.dedupKey}#${delivery.seq}`, line: null, record: delivery.seq, field: null },
      issues: [],
      // The neutral notification: no URL or key of the target is in it.
      ...buildDeadLetterOriginal(JSON.stringify(delivery.notification)),
    });
  }

  function settle(delivery: Delivery, deadLetters: DeadLetter[]): void {
    serialize(async () => {
      core.markDelivered(delivery.dedupKey, delivery.seq, delivery.target, wallClock());
      await flush(deadLetters);
    }).catch((error: unknown) => {
      logger.error({ err: error, target: delivery.target }, 'could not record a delivery; retried with the next write');
      failIfStuck(error);
    });
  }

  function createDispatcher(): DeliveryDispatcher {
    return createDeliveryDispatcher({
      senders,
      retry: {
        minDelayMs: config.delivery.retryMinDelayMs,
        maxDelayMs: config.delivery.retryMaxDelayMs,
        giveUpAfterMs: config.delivery.giveUpAfterMs,
      },
      onDelivered(delivery, outcome) {
        metrics.deliveries.inc({ target: delivery.target, action: delivery.notification.action, outcome: 'delivered' });
        logger.info(
          { target: delivery.target, dedupKey: delivery.dedupKey, action: delivery.notification.action, seq: delivery.seq, attempts: outcome.attempts, elapsedMs: outcome.elapsedMs },
          'notification delivered',
        );
        settle(delivery, []);
      },
      onGaveUp(delivery, error, outcome) {
        const lastCode = typeof error.context['lastCode'] === 'string' ? error.context['lastCode'] : error.code;
        metrics.deliveries.inc({ target: delivery.target, action: delivery.notification.action, outcome: 'failed' });
        metrics.deliveryFailures.inc({ target: delivery.target, code: lastCode });
        logger.error(
          { code: error.code, lastCode, target: delivery.target, dedupKey: delivery.dedupKey, action: delivery.notification.action, attempts: outcome.attempts, elapsedMs: outcome.elapsedMs, reason: error.message },
          'notification given up and dead-lettered',
        );
        settle(delivery, [deadLetterOfDelivery(delivery, error.code, error.message)]);
      },
      onRetry(delivery, error, attempt, delayMs) {
        const code = error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : 'unknown';
        metrics.deliveryRetries.inc({ target: delivery.target, code });
        logger.warn({ target: delivery.target, dedupKey: delivery.dedupKey, code, attempt, delayMs }, 'delivery failed; retrying');
      },
    });
  }

  /** Reads the alert-state partition into the core; re-reading from the start is harmless (last write wins). */
  function restore(): Promise<{ records: number; unreadable: number }> {
    return readStateTopic(
      kafka.createPartitionReader(),
      names.alertState,
      (key, value) => {
        const result = core.restoreRecord(key, value, wallClock());
        if (!result.ok) {
          metrics.stateRestoreErrors.inc();
          logger.warn({ code: 'NOTIFIER_STATE_INVALID', key, reason: result.message }, 'alert state record skipped');
        }
      },
      (key, reason) => {
        metrics.stateRestoreErrors.inc();
        logger.warn({ code: 'NOTIFIER_STATE_INVALID', key, reason }, 'alert state record skipped');
      },
      // Right after topic creation the broker may not have a leader yet: retriable, so retried.
      {
        retries: 8,
        minDelayMs: 250,
        maxDelayMs: 4_000,
        onRetry: (error, attempt, delayMs) => logger.warn({ err: error, attempt, delayMs }, 'alert state restore failed; retrying'),
      },
    );
  }

  async function start(): Promise<void> {
    if (state !== 'new') throw new Error(`notifier cannot start from state ${state}`);
    state = 'starting';
    try {
      await startParts();
    } catch (error) {
      state = 'failed';
      clearInterval(ticker);
      lagReader?.stop();
      await consumer?.stop().catch(() => undefined);
      await dispatcher?.stop();
      await producer?.close().catch(() => undefined);
      await admin?.close().catch(() => undefined);
      await metricsServer?.stop();
      throw error;
    }
  }

  async function startParts(): Promise<void> {
    // Probes first: /healthz answers and /readyz says no while the state is restored.
    metricsServer = createProbeServer({
      port: config.metricsPort,
      metrics: metrics.registry,
      readiness: () => ({ ready: isReady(), reasons: { state, ...options.readiness?.reasons() } }),
    });
    probePort = await metricsServer.start();
    logger.info({ port: probePort }, 'metrics served at /metrics, probes at /healthz and /readyz');
    if (config.targets.length === 0) logger.warn('no targets configured: alerts are decided and recorded but nobody is paged');
    producer = await kafka.createProducer();
    admin = await kafka.createAdmin();

    const restored = await restore();
    const pending = core.pendingDeliveries();
    logger.info({ records: restored.records, openAlerts: core.openAlerts().length, pendingDeliveries: pending.length }, 'alert state restored');

    dispatcher = createDispatcher();
    dispatcher.enqueue(pending);
    refreshGauges();

    // Until the group hands over partitions, unread records may be waiting: event time holds still.
    core.setIdleAdvance(false, wallClock());
    consumer = kafka.createConsumer({ groupId: config.groupId });
    await consumer.start({
      topics: [names.findings, names.enriched],
      fromBeginning: config.fromBeginning,
      eachBatch: handleBatch,
      onAssignment: (assigned) =>
        serialize(async () => {
          progress.assign(assigned);
          core.setIdleAdvance(assigned.length > 0, wallClock());
          logger.info({ partitions: assigned.length }, 'partitions assigned');
        }),
      onCrash: (error) => fatal(error),
    });
    ticker = setInterval(() => {
      tick().catch((error: unknown) => {
        logger.error({ err: error }, 'tick failed; retried at the next tick');
        failIfStuck(error);
      });
    }, config.tickIntervalMs);
    lagReader = startGroupLagReader({
      admin,
      groupId: config.groupId,
      fromBeginning: config.fromBeginning,
      topics: [names.findings, names.enriched],
      progress,
      intervalMs: LAG_READ_INTERVAL_MS,
      onError: (error) => logger.debug({ err: error }, 'could not read offsets for the lag gauges'),
    });
    state = 'running';
    logger.info({ targets: [...senders.keys()], groupId: config.groupId, rules: [...config.rules.enabled] }, 'notifier running');
  }

  async function shutdown(): Promise<void> {
    state = 'stopping';
    clearInterval(ticker);
    lagReader?.stop();
    await consumer?.stop();
    await serialize(async () => undefined);
    if (dispatcher !== undefined) {
      const drained = await dispatcher.drain(config.delivery.drainTimeoutMs);
      if (!drained) logger.warn({ drainTimeoutMs: config.delivery.drainTimeoutMs }, 'deliveries still pending at shutdown stay in the outbox');
      await dispatcher.stop();
    }
    // Receipts of the last deliveries must reach the state topic, or they are sent again.
    await serialize(() => flush()).catch((error: unknown) => logger.error({ err: error }, 'final state write failed'));
    await producer?.close();
    await admin?.close();
    await metricsServer?.stop();
    state = 'stopped';
    logger.info('notifier stopped');
  }

  return {
    metrics,
    state: () => state,
    get probePort() {
      return probePort;
    },
    start,
    stop(): Promise<void> {
      if (state === 'new') {
        state = 'stopped';
        return Promise.resolve();
      }
      stopping ??= shutdown();
      return stopping;
    },
  };
}
