import type { TopicNames } from '@calwatch/model';
import type { CoreConfig } from '../core/index';
import type { RuntimeMetrics } from './metrics';
import { ServerTask } from './server-task';
import type { Task, TaskKind } from './task';

/**
 * The processor's shape on Kafka: the events topic, keyed by license server, one task per
 * partition running the whole detection core for the servers that hash to it, and the
 * changelog partition of the same number. No repartition topic, no cross-task ordering:
 * every detection rule is about one license server (docs/processor-runtime.md).
 */
export interface Topology {
  topics: TopicNames;
  partitions: number;
  config: CoreConfig;
  idleAfterMs: number;
  metrics: RuntimeMetrics;
}

export function inputTopicsOf(topics: TopicNames): string[] {
  return [topics.events];
}

export function taskKindOf(topics: TopicNames, topic: string): TaskKind | undefined {
  return topic === topics.events ? 'server' : undefined;
}

export function changelogTopicOf(topics: TopicNames, _kind: TaskKind): string {
  return topics.processorChangelog;
}

export function createTask(topology: Topology, topic: string, partition: number): Task {
  const { topics, config, metrics } = topology;
  if (taskKindOf(topics, topic) === undefined) throw new Error(`${topic} is not a processor input topic`);
  return new ServerTask({
    topic,
    partition,
    outputs: { findings: topics.findings, enriched: topics.enriched, revocations: topics.revocations, deadLetter: topics.deadLetter },
    changelogTopic: topics.processorChangelog,
    config,
    idleAfterMs: topology.idleAfterMs,
    metrics,
  });
}
