import { randomBytes } from 'node:crypto';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Jdk } from './java';
import { buildClusterId, buildKafkaJvmArgs, buildKafkaLog4jConfig, buildKafkaScramArgs, buildKafkaServerProperties } from './kafka-config';
import type { StackLayout } from './layout';
import { ensureKafkaLibs } from './maven';
import { runChecked, spawnDetached, type PidRecord } from './processes';
import type { StackSettings } from './settings';
import { ensureKafkaScramUsers, type KafkaScramUsers, type StackCertificates } from './stack-tls';

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Kafka 4.x brokers need Java 17+; 25 is the newest this stack was run on. */
export const KAFKA_JAVA_RANGE = { min: 17, max: 25 };

/**
 * Jars, config files and (first time only) formatted KRaft storage. With `certificates` the
 * broker listens on SASL_SSL (SCRAM-SHA-512, client certificates required) and the SCRAM
 * users it returns are made when the storage is formatted.
 */
export async function prepareKafka(options: {
  settings: StackSettings;
  layout: StackLayout;
  jdk: Jdk;
  certificates?: StackCertificates | undefined;
}): Promise<KafkaScramUsers | undefined> {
  const { settings, layout, jdk, certificates } = options;
  const k = layout.kafka;
  await ensureKafkaLibs({ mavenDir: k.mavenDir, libsDir: k.libsDir, version: settings.kafka.version, javaHome: jdk.home, env: settings.toolEnv });
  for (const dir of [k.configDir, k.dataDir, k.logsDir, layout.logsDir, layout.runDir]) await mkdir(dir, { recursive: true });
  const formatted = await exists(join(k.dataDir, 'meta.properties'));
  const users = certificates === undefined ? undefined : await ensureKafkaScramUsers(k.scramUsersFile, { storageFormatted: formatted });
  await writeFile(
    k.serverProperties,
    buildKafkaServerProperties({
      port: settings.kafka.port,
      controllerPort: settings.kafka.controllerPort,
      dataDir: k.dataDir,
      ...(certificates === undefined || users === undefined
        ? {}
        : {
            tls: {
              keyAndCertFile: certificates.kafka.keyAndCertFile,
              caFile: certificates.caFile,
              brokerUser: users.broker,
              requireClientCertificates: true,
            },
          }),
    }),
  );
  await writeFile(k.log4jConfig, buildKafkaLog4jConfig(k.logsDir));
  if (!formatted) {
    await runChecked(
      'formatting the Kafka KRaft storage',
      jdk.java,
      [
        ...buildKafkaJvmArgs({ heapMb: 256, log4jConfig: k.log4jConfig, logsDir: k.logsDir, libsDir: k.libsDir }),
        'kafka.tools.StorageTool',
        'format',
        '--cluster-id',
        buildClusterId(randomBytes(16)),
        '--config',
        k.serverProperties,
        ...(users === undefined ? [] : buildKafkaScramArgs([users.broker, users.client])),
      ],
      { timeoutMs: 120_000 },
    );
  }
  return users;
}

export async function startKafka(options: { settings: StackSettings; layout: StackLayout; jdk: Jdk; tls: boolean }): Promise<PidRecord> {
  const { settings, layout, jdk } = options;
  const k = layout.kafka;
  const { pid } = await spawnDetached({
    command: jdk.java,
    args: [
      ...buildKafkaJvmArgs({ heapMb: settings.kafka.heapMb, log4jConfig: k.log4jConfig, logsDir: k.logsDir, libsDir: k.libsDir }),
      'kafka.Kafka',
      k.serverProperties,
    ],
    env: { PATH: settings.childPath, LANG: 'C.UTF-8', JAVA_HOME: jdk.home },
    cwd: k.logsDir,
    logFile: k.stdoutLog,
  });
  return { name: 'kafka', pid, pgid: pid, marker: k.serverProperties, startedAt: new Date().toISOString(), tls: options.tls };
}
