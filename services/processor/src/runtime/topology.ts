import type { TopicNames } from '@calwatch/shared';
import type { CoreConfig } from '../core/index';
import { IngressTask } from './ingress-task';
import { buildSourceId } from './internal-records';
import type { RuntimeMetrics } from './metrics';
import { StageTask } from './stage-task';
import type { Task, TaskKind } from './task';

/**
 * The processor's shape on Kafka: three input topics (events, by-computer, by-server),
 * one task per input partition, each with the changelog partition of the same number.
 * Every topic has the same partition count.
 */
export interface Topology {
  topics: TopicNames;
  partitions: number;
  config: CoreConfig;
  idleAfterMs: number;
  metrics: RuntimeMetrics;
}

export function inputTopicsOf(topics: TopicNames): string[] {
  return [topics.events, topics.byComputer, topics.byServer];
}

export function taskKindOf(topics: TopicNames, topic: string): TaskKind | undefined {
  if (topic === topics.events) return 'ingress';
  if (topic === topics.byComputer) return 'by-computer';
  if (topic === topics.byServer) return 'by-server';
  return undefined;
}

export function changelogTopicOf(topics: TopicNames, kind: TaskKind): string {
  switch (kind) {
    case 'ingress':
      return topics.changelogByHwid;
    case 'by-computer':
      return topics.changelogByComputer;
    case 'by-server':
      return topics.changelogByServer;
  }
}

function sourcesOf(topic: string, partitions: number): string[] {
  return Array.from({ length: partitions }, (_, p) => buildSourceId(topic, p));
}

export function createTask(topology: Topology, topic: string, partition: number): Task {
  const { topics, partitions, config, metrics } = topology;
  const kind = taskKindOf(topics, topic);
  const outputs = { byComputer: topics.byComputer, byServer: topics.byServer, findings: topics.findings, enriched: topics.enriched, deadLetter: topics.deadLetter };
  switch (kind) {
    case 'ingress':
      return new IngressTask({
        topic,
        partition,
        outputs,
        changelogTopic: changelogTopicOf(topics, kind),
        downstreamPartitions: { byComputer: partitions, byServer: partitions },
        config,
        idleAfterMs: topology.idleAfterMs,
        metrics,
      });
    case 'by-computer':
      return new StageTask({
        stage: 'by-computer',
        topic,
        partition,
        outputs,
        changelogTopic: changelogTopicOf(topics, kind),
        upstream: sourcesOf(topics.events, partitions),
        downstream: { topic: topics.byServer, partitions },
        config,
        metrics,
      });
    case 'by-server':
      return new StageTask({
        stage: 'by-server',
        topic,
        partition,
        outputs,
        changelogTopic: changelogTopicOf(topics, kind),
        upstream: [...sourcesOf(topics.events, partitions), ...sourcesOf(topics.byComputer, partitions)],
        downstream: null,
        config,
        metrics,
      });
    case undefined:
      throw new Error(`${topic} is not a processor input topic`);
  }
}
