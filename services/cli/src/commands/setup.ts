import { createKafkaClient, ensureCalwatchTopics } from '@calwatch/kafka';
import { buildTopicNames } from '@calwatch/model';
import { createSilentLogger, KafkaConfigSchema, loadConfig } from '@calwatch/runtime';
import { formatSecurityReport, formatSetupReport, installEsSecurityFromEnv, installEsSetupFromEnv } from './es-setup';
import { parseCommandArgs, reportCalwatchError } from './command-support';
import type { Command, CommandIo } from './registry';

const usage = `usage: calwatch setup [--kafka-only | --elasticsearch-only] [--elasticsearch-users] [--elasticsearch-api-keys]

Creates every calwatch Kafka topic that is missing (partitions and retention from
CALWATCH_TOPIC_PARTITIONS / CALWATCH_TOPIC_RETENTION_MS, changelogs compacted) and installs
or upgrades the Elasticsearch templates, indices and aliases. Idempotent; run it before
starting the services and after an upgrade. Connection variables left unset come from the
running local stack ('calwatch stack up').

  --elasticsearch-users     also create or update the least-privilege roles calwatch_writer
                            and calwatch_reader, the user CALWATCH_ES_WRITER_USER with
                            CALWATCH_ES_WRITER_PASSWORD (for the indexer) and, when
                            CALWATCH_ES_READER_PASSWORD is set, CALWATCH_ES_READER_USER (for
                            Kibana). Needs a setup user with manage_security (e.g. elastic);
                            the services then run as the writer, never as elastic.
  --elasticsearch-api-keys  also create one API key per role and print them once
                            (ELASTICSEARCH_API_KEY for the indexer).
See docs/security.md for the privileges and why each is needed.`;

async function setupKafka(io: CommandIo): Promise<void> {
  const config = loadConfig(KafkaConfigSchema, io.env);
  const kafka = createKafkaClient({ connection: config.kafka, logger: createSilentLogger() });
  const names = buildTopicNames(config.topicPrefix);
  await ensureCalwatchTopics(kafka, names, config.topicLayout);
  io.stdout.write(`Kafka ${config.kafka.brokers.join(',')}: topics '${config.topicPrefix}*' present (${Object.keys(names).length} topics, ${config.topicLayout.partitions} partitions)\n`);
}

async function setupElasticsearch(io: CommandIo, security: { users: boolean; apiKeys: boolean }): Promise<void> {
  io.stdout.write(formatSetupReport(await installEsSetupFromEnv(io.env)) + '\n');
  if (security.users || security.apiKeys) io.stdout.write(formatSecurityReport(await installEsSecurityFromEnv(io.env, security)) + '\n');
}

async function run(args: string[], io: CommandIo): Promise<number> {
  const parsed = parseCommandArgs('setup', usage, io, {
    args,
    options: {
      'kafka-only': { type: 'boolean' },
      'elasticsearch-only': { type: 'boolean' },
      'elasticsearch-users': { type: 'boolean' },
      'elasticsearch-api-keys': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  try {
    if (values['elasticsearch-only'] !== true) await setupKafka(io);
    if (values['kafka-only'] !== true) {
      await setupElasticsearch(io, { users: values['elasticsearch-users'] === true, apiKeys: values['elasticsearch-api-keys'] === true });
    }
    return 0;
  } catch (error) {
    return reportCalwatchError('setup', io, error);
  }
}

export const command: Command = {
  name: 'setup',
  summary: 'create the Kafka topics and Elasticsearch templates calwatch needs (idempotent)',
  usage,
  run,
};
