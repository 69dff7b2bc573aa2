import { createElasticsearchClient, type ElasticsearchClient } from '@calwatch/elasticsearch';
import { type KafkaClient } from '@calwatch/kafka';
import { buildTopicNames } from '@calwatch/model';
import type { Env, Logger } from '@calwatch/runtime';
import { createProcessorService, loadProcessorConfig, type CoreConfig, type ProcessorService } from '@calwatch/processor';
import {
  buildIndexNames,
  createIndexerService,
  installElasticsearchSetup,
  loadIndexerConfig,
  restoreRefresh,
  suspendRefresh,
  type IndexNames,
  type IndexerService,
  type RefreshSuspension,
} from '@calwatch/indexer';
import type { DrainTarget } from './drain';

export interface PipelineServicesOptions {
  /** Connection variables (KAFKA_*, ELASTICSEARCH_*) and any PROCESSOR_* / INDEXER_* settings. */
  env: Env;
  kafka: KafkaClient;
  logger: Logger;
  topicPrefix: string;
  indexPrefix: string;
  /** Consumer groups are `<groupPrefix>-processor` and `<groupPrefix>-indexer`. */
  groupPrefix: string;
  detection: CoreConfig;
  /** Bulk-friendly Elasticsearch: refresh off on calwatch's indices while loading, restored at stop. */
  suspendRefresh: boolean;
  /** A service stopped for good on an error (the caller should stop too). */
  onFatal?: (error: Error) => void;
}

export interface PipelineServices {
  readonly processor: ProcessorService;
  readonly indexer: IndexerService;
  readonly elasticsearch: ElasticsearchClient;
  readonly indexNames: IndexNames;
  /** Groups that must have read everything for "drained": the processor its input, the indexer its. */
  readonly drainTargets: DrainTarget[];
  /** The outputs that must stay put for "drained" (see drain.ts). */
  readonly quietTopics: string[];
  /** How long the pipeline must be quiet to count as drained (see drain.ts). */
  readonly quietMs: number;
  start(): Promise<void>;
  /** Reverse order: indexer, processor, refresh settings back, client closed. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The processor and the indexer of one topic/index namespace, run in this process (the
 * replay's --process and the demo), with the namespace's Elasticsearch templates
 * installed first.
 */
export function createPipelineServices(options: PipelineServicesOptions): PipelineServices {
  const { kafka, logger } = options;
  const topics = buildTopicNames(options.topicPrefix);
  const processorConfig = loadProcessorConfig({
    // In a command's process, probes on a free port unless asked for one: a standalone service may hold the default.
    PROCESSOR_METRICS_PORT: '0',
    ...options.env,
    CALWATCH_TOPIC_PREFIX: options.topicPrefix,
    PROCESSOR_GROUP_ID: `${options.groupPrefix}-processor`,
  });
  const indexerConfig = loadIndexerConfig({
    INDEXER_METRICS_PORT: '0',
    ...options.env,
    CALWATCH_TOPIC_PREFIX: options.topicPrefix,
    CALWATCH_INDEX_PREFIX: options.indexPrefix,
    INDEXER_GROUP_ID: `${options.groupPrefix}-indexer`,
  });
  const indexNames = buildIndexNames(indexerConfig.indexPrefix, indexerConfig.indexInterval);
  const elasticsearch = createElasticsearchClient({
    connection: indexerConfig.elasticsearch,
    requestTimeoutMs: indexerConfig.requestTimeoutMs,
  });
  const fatal = (error: Error): void => options.onFatal?.(error);
  const processor = createProcessorService({
    config: processorConfig,
    detection: options.detection,
    logger: logger.child({ service: 'processor' }),
    kafka,
    onFatal: fatal,
  });
  const indexer = createIndexerService({ config: indexerConfig, logger: logger.child({ service: 'indexer' }), kafka, elasticsearch, onFatal: fatal });
  let suspension: RefreshSuspension | undefined;
  let started: Array<{ stop(): Promise<void> }> = [];
  let stopping: Promise<void> | undefined;

  return {
    processor,
    indexer,
    elasticsearch,
    indexNames,
    drainTargets: [
      { groupId: processorConfig.groupId, topics: [topics.events] },
      { groupId: indexerConfig.groupId, topics: [topics.findings, topics.enriched] },
    ],
    quietTopics: [topics.findings, topics.enriched, topics.deadLetter],
    quietMs: processorConfig.idleAfterMs + processorConfig.punctuateIntervalMs + 1_500,

    async start() {
      await installElasticsearchSetup({ client: elasticsearch, names: indexNames, logger: logger.child({ component: 'es-setup' }) });
      if (options.suspendRefresh) suspension = await suspendRefresh(elasticsearch, indexNames);
      await processor.start();
      started.push(processor);
      await indexer.start();
      started.push(indexer);
    },

    stop() {
      stopping ??= (async () => {
        const errors: unknown[] = [];
        for (const service of started.reverse()) await service.stop().catch((error: unknown) => errors.push(error));
        started = [];
        if (suspension !== undefined) await restoreRefresh(elasticsearch, suspension).catch((error: unknown) => errors.push(error));
        await elasticsearch.close().catch(() => undefined);
        if (errors.length > 0) throw errors[0];
      })();
      return stopping;
    },
  };
}
