import { nextOffsetOf, readGroupOffsets, type Admin, type Consumer, type KafkaClient, type Producer } from '@calwatch/kafka';
import { buildTopicNames, type TopicNames } from '@calwatch/model';
import {
  createPartitionProgress,
  createProbeServer,
  createReadiness,
  type Logger,
  type PartitionLag,
  type PartitionProgressTracker,
  type ProbeServer,
  type Readiness,
  type Service,
} from '@calwatch/runtime';
import type { ProcessorConfig } from './config';
import type { CoreConfig } from './core/index';
import { PROCESSOR_ERRORS } from './errors';
import { type ProcessorMetrics, createProcessorMetrics } from './processor-metrics';
import type { RuntimeMetrics } from './runtime/metrics';
import { type OffsetSource, type StreamRuntime, createStreamRuntime } from './runtime/stream-runtime';
import { type Topology, inputTopicsOf } from './runtime/topology';

export type ProcessorState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export interface ProcessorService extends Service {
  readonly state: ProcessorState;
  stats(): RuntimeMetrics;
  /** The registry /metrics serves and the runtime counters it exports. */
  readonly metrics: ProcessorMetrics;
  /** What each task of this instance holds and how far it got. */
  tasks(): Array<Record<string, unknown>>;
  /** As /readyz: running, and no stopped consumer, failed task or Kafka outage. */
  isReady(): boolean;
  /** Lag and time since progress of each assigned input partition (the /metrics gauges). */
  partitions(): PartitionLag[];
  /** Port of /metrics, /healthz and /readyz once started. */
  readonly probePort: number | undefined;
}

export interface ProcessorServiceOptions {
  config: ProcessorConfig;
  /** Detection thresholds (PROCESSOR_DETECTION_CONFIG, resolved by main). */
  detection: CoreConfig;
  logger: Logger;
  kafka: KafkaClient;
  /** Called once when the consumer stopped for good on an error (the process should exit non-zero). */
  onFatal?: (error: Error) => void;
  /** Reasons for not being ready; main shares it with the Kafka client, which reports outages. */
  readiness?: Readiness;
  /** Process metrics in the registry (default true); off in tests and commands that run several services. */
  processMetrics?: boolean;
}

/** Every topic the processor reads or writes; all must share one partition count. */
function topicsUsed(topics: TopicNames): string[] {
  return [topics.events, topics.findings, topics.enriched, topics.revocations, topics.deadLetter, topics.processorChangelog];
}

/** Log ends and the group's committed offsets, as the punctuator needs them (and the lag gauge sees them). */
function offsetSource(admin: Admin, groupId: string, tracker: PartitionProgressTracker): OffsetSource {
  return {
    async progress(topic) {
      const list = await readGroupOffsets(admin, groupId, topic);
      tracker.offsetsRead(topic, list.map((p) => ({ partition: p.partition, end: p.end, next: nextOffsetOf(p) })));
      return list;
    },
  };
}

/**
 * The processor: the detection core run as keyed tasks on Kafka. Start: check the
 * topics, connect the producer, join the group (each assignment restores its tasks from
 * the changelogs), start the punctuator. Stop (reverse): stop the punctuator, let the batch
 * in flight finish, write every task's state and commit, leave the group, close the producer.
 */
export function createProcessorService(options: ProcessorServiceOptions): ProcessorService {
  const { config, logger, kafka } = options;
  const topics = buildTopicNames(config.topicPrefix);
  let state: ProcessorState = 'new';
  let producer: Producer | undefined;
  let admin: Admin | undefined;
  let consumer: Consumer | undefined;
  let runtime: StreamRuntime | undefined;
  let timer: NodeJS.Timeout | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  let stopped: Promise<void> | undefined;
  let probes: ProbeServer | undefined;
  let probePort: number | undefined;
  const readiness = options.readiness ?? createReadiness();
  const progress = createPartitionProgress();
  const isReady = (): boolean => state === 'running' && readiness.isReady();
  const processorMetrics = createProcessorMetrics({ progress, isReady, tasks: () => runtime?.taskMetrics() ?? [], processMetrics: options.processMetrics ?? true });
  const metrics = processorMetrics.runtime;
  /** Partitions whose last batch failed: not ready until a batch of theirs succeeds (or they move away). */
  const failingTasks = new Set<string>();

  function fail(error: Error): void {
    if (state === 'stopping' || state === 'stopped' || state === 'failed') return;
    state = 'failed';
    clearInterval(timer);
    readiness.set('processor', `consumer stopped: ${error.message}`);
    logger.error({ err: error, tasks: [...failingTasks] }, 'consumer stopped on an error; the processor stops');
    options.onFatal?.(error);
  }

  async function checkTopics(): Promise<number> {
    const admin = await kafka.createAdmin();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topicsUsed(topics).filter((t) => !existing.has(t));
      if (missing.length > 0) {
        throw PROCESSOR_ERRORS.create('PROCESSOR_TOPICS_MISSING', `missing topics: ${missing.join(', ')}; run 'calwatch setup' for prefix '${config.topicPrefix}' first`, {
          context: { missing },
        });
      }
      const counts = new Map<string, number>();
      for (const topic of topicsUsed(topics)) counts.set(topic, await admin.partitionCount(topic));
      const distinct = new Set(counts.values());
      if (distinct.size !== 1) {
        throw PROCESSOR_ERRORS.create('PROCESSOR_TOPOLOGY_MISMATCH', `processor topics differ in partition count: ${[...counts].map(([t, n]) => `${t}=${n}`).join(', ')}`, {
          context: { counts: Object.fromEntries(counts) },
        });
      }
      return [...distinct][0]!;
    } finally {
      await admin.close();
    }
  }

  return {
    get state() {
      return state;
    },
    stats: () => ({ ...metrics }),
    metrics: processorMetrics,
    tasks: () => runtime?.tasks() ?? [],
    isReady,
    partitions: () => progress.view(),
    get probePort() {
      return probePort;
    },

    async start(): Promise<void> {
      if (state !== 'new') throw new Error(`processor cannot start from state ${state}`);
      state = 'starting';
      try {
        // Probes first: /healthz answers and /readyz says no while the rest starts.
        probes = createProbeServer({
          port: config.metricsPort,
          metrics: processorMetrics.registry,
          readiness: () => ({ ready: isReady(), reasons: { state, ...readiness.reasons() } }),
        });
        probePort = await probes.start();
        const partitions = await checkTopics();
        const topology: Topology = { topics, partitions, config: options.detection, idleAfterMs: config.idleAfterMs, metrics };
        producer = await kafka.createProducer();
        admin = await kafka.createAdmin();
        consumer = kafka.createConsumer({
          groupId: config.groupId,
          sessionTimeoutMs: config.sessionTimeoutMs,
          heartbeatIntervalMs: config.heartbeatIntervalMs,
          maxBytesPerPartition: config.maxBytesPerPartition,
          maxWaitTimeMs: config.fetchMaxWaitMs,
        });
        runtime = createStreamRuntime({
          topology,
          producer,
          reader: kafka.createPartitionReader(),
          offsets: offsetSource(admin, config.groupId, progress),
          offsetCommits: consumer,
          commitIntervalMs: config.commitIntervalMs,
          logger: logger.child({ component: 'runtime' }),
        });
        const active = runtime;
        await consumer.start({
          topics: inputTopicsOf(topics),
          fromBeginning: true,
          // The runtime commits, each offset after the changelog records it depends on.
          autoCommit: false,
          partitionsConsumedConcurrently: config.partitionsConcurrency,
          onAssignment: (assigned) => {
            progress.assign(assigned);
            const ours = new Set(assigned.map((tp) => `${tp.topic}:${tp.partition}`));
            for (const id of [...failingTasks]) {
              if (ours.has(id)) continue;
              failingTasks.delete(id);
              readiness.set(`task ${id}`, undefined);
            }
            return active.onAssignment(assigned);
          },
          onRebalance: () => active.onRebalance(),
          eachBatch: async (records, context) => {
            const id = `${context.topic}:${context.partition}`;
            try {
              await active.handleBatch(records, context);
            } catch (error) {
              failingTasks.add(id);
              readiness.set(`task ${id}`, error instanceof Error ? error.message : String(error));
              throw error;
            }
            if (failingTasks.delete(id)) readiness.set(`task ${id}`, undefined);
            const last = records.at(-1);
            if (last !== undefined) progress.batchHandled(context.topic, context.partition, BigInt(last.offset) + 1n, BigInt(context.highWatermark));
          },
          onCrash: (error) => fail(error),
        });
        // The consumer may already have crashed (fail() ran): nothing more to start.
        if (state !== 'starting') return;
        timer = setInterval(() => {
          active.punctuate().catch((error: unknown) => logger.error({ err: error }, 'punctuation failed'));
        }, config.punctuateIntervalMs);
        let reported = '';
        progressTimer = setInterval(() => {
          const now = JSON.stringify(metrics);
          if (now !== reported) logger.info({ ...metrics }, 'progress');
          reported = now;
        }, 2_000);
        state = 'running';
        logger.info({ topics: inputTopicsOf(topics), partitions, groupId: config.groupId, probePort }, 'processor consuming');
      } catch (error) {
        state = 'failed';
        await producer?.close().catch(() => undefined);
        await admin?.close().catch(() => undefined);
        await probes?.stop().catch(() => undefined);
        throw error;
      }
    },

    stop(): Promise<void> {
      stopped ??= (async () => {
        state = 'stopping';
        clearInterval(timer);
        clearInterval(progressTimer);
        try {
          // The runtime first: it writes every task's state and commits while still in the group.
          await runtime?.close();
          await consumer?.stop();
        } finally {
          await producer?.close();
          await admin?.close();
          await probes?.stop();
          state = 'stopped';
          logger.info({ ...metrics }, 'processor stopped');
        }
      })();
      return stopped;
    },
  };
}
