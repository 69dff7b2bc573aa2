import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  buildTopicNames,
  createElasticsearchClient,
  createKafkaClient,
  createSilentLogger,
  ensureCalwatchTopics,
  isCalwatchError,
  kafkaEnvShape,
  loadConfig,
  toElasticsearchConnection,
  toKafkaConnection,
} from '@calwatch/shared';
import { buildIndexNames, installElasticsearchSetup, loadEsSetupConfig } from '@calwatch/indexer';
import { formatSetupReport } from './es-setup';
import type { Command, CommandIo } from './registry';

const usage = `usage: calwatch setup [--kafka-only | --elasticsearch-only]

Creates every calwatch Kafka topic that is missing (partitions and retention from
CALWATCH_TOPIC_PARTITIONS / CALWATCH_TOPIC_RETENTION_MS, changelogs compacted) and installs
or upgrades the Elasticsearch templates, indices and aliases. Idempotent; run it before
starting the services and after an upgrade. Connection variables left unset come from the
running local stack ('calwatch stack up').`;

const KafkaSetupConfig = z.object(kafkaEnvShape);

async function setupKafka(io: CommandIo): Promise<void> {
  const config = loadConfig(KafkaSetupConfig, io.env);
  const kafka = createKafkaClient({ connection: toKafkaConnection(config), logger: createSilentLogger() });
  const names = buildTopicNames(config.CALWATCH_TOPIC_PREFIX);
  await ensureCalwatchTopics(kafka, names, {
    partitions: config.CALWATCH_TOPIC_PARTITIONS,
    retentionMs: config.CALWATCH_TOPIC_RETENTION_MS,
    deadLetterRetentionMs: config.CALWATCH_TOPIC_RETENTION_MS * 2,
  });
  io.stdout.write(`Kafka ${config.KAFKA_BROKERS.join(',')}: topics '${config.CALWATCH_TOPIC_PREFIX}*' present (${Object.keys(names).length} topics, ${config.CALWATCH_TOPIC_PARTITIONS} partitions)\n`);
}

async function setupElasticsearch(io: CommandIo): Promise<void> {
  const config = loadEsSetupConfig(io.env);
  const client = createElasticsearchClient({ connection: toElasticsearchConnection(config) });
  try {
    const report = await installElasticsearchSetup({
      client,
      names: buildIndexNames(config.CALWATCH_INDEX_PREFIX, config.CALWATCH_INDEX_INTERVAL),
      layout: { shards: config.CALWATCH_INDEX_SHARDS, replicas: config.CALWATCH_INDEX_REPLICAS },
    });
    io.stdout.write(formatSetupReport(report) + '\n');
  } finally {
    await client.close();
  }
}

async function run(args: string[], io: CommandIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { 'kafka-only': { type: 'boolean' }, 'elasticsearch-only': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    io.stderr.write(`calwatch setup: ${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  if (values.help === true) {
    io.stdout.write(usage + '\n');
    return 0;
  }
  try {
    if (values['elasticsearch-only'] !== true) await setupKafka(io);
    if (values['kafka-only'] !== true) await setupElasticsearch(io);
    return 0;
  } catch (error) {
    if (isCalwatchError(error)) {
      io.stderr.write(`calwatch setup: ${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

export const command: Command = {
  name: 'setup',
  summary: 'create the Kafka topics and Elasticsearch templates calwatch needs (idempotent)',
  usage,
  run,
};
