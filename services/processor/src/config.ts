import { z } from 'zod';
import { intVar, kafkaEnvShape, loadConfig, logLevelEnvShape, toKafkaConfig, type Env } from '@calwatch/runtime';
import { type CoreConfig, parseCoreConfig } from './core/index';
import { PROCESSOR_ERRORS } from './errors';

const MIB = 1024 * 1024;

/** Every environment variable the processor reads; the README's reference is checked against it. */
export const ProcessorEnvSchema = z
  .object({
    ...kafkaEnvShape,
    ...logLevelEnvShape,
    PROCESSOR_GROUP_ID: z
      .string()
      .min(1)
      .default('calwatch-processor')
      .describe('Kafka consumer group of the processor; every instance of one deployment uses the same.'),
    PROCESSOR_SESSION_TIMEOUT_MS: intVar(1_000)
      .default(30_000)
      .describe('How long the group waits for a silent instance before its partitions (and their state) move to another.'),
    PROCESSOR_HEARTBEAT_INTERVAL_MS: intVar(100)
      .default(3_000)
      .describe('Heartbeat interval of the consumer; keep it well under the session timeout.'),
    PROCESSOR_PUNCTUATE_INTERVAL_MS: intVar(10)
      .default(1_000)
      .describe('Wall-clock period of the punctuator that lets idle partitions release what the lateness holds.'),
    PROCESSOR_IDLE_AFTER_MS: intVar(0)
      .default(2_000)
      .describe(
        'An events partition without records for this long, and with nothing left to read, is idle: its buffer is released up to min(newest event time, now - allowed lateness).',
      ),
    PROCESSOR_MAX_BYTES_PER_PARTITION: intVar(1024)
      .default(4 * MIB)
      .describe(
        'Largest fetch per partition, in bytes; bounds one batch. Larger batches need fewer sends.',
      ),
    PROCESSOR_COMMIT_INTERVAL_MS: intVar(0)
      .default(30_000)
      .describe(
        'Longest time a task behind its partition\'s end (a bulk load, a replay, catching up after an outage) keeps its state changes out of the changelog, and so its input offset uncommitted: a key changed in many batches meanwhile is written once. A task that reaches the end of its partition writes and commits at once, so live traffic is not delayed. A crash re-reads at most this much input. 0 writes after every batch.',
      ),
    PROCESSOR_FETCH_MAX_WAIT_MS: intVar(0)
      .default(100)
      .describe('How long the broker may hold a fetch waiting for data; lower means lower latency.'),
    PROCESSOR_PARTITIONS_CONCURRENCY: intVar(1)
      .default(1)
      .describe(
        'Partitions (tasks) whose batches are processed at the same time by one instance. The work is CPU-bound on one thread: more only interleaves batches (measured slower on the scale benchmark).',
      ),
    PROCESSOR_DETECTION_CONFIG: z
      .string()
      .optional()
      .describe('Detection thresholds: a JSON object, or the path of a JSON file (docs/detection.md); defaults apply when unset.'),
    PROCESSOR_METRICS_PORT: intVar(0)
      .max(65_535)
      .default(9464)
      .describe(
        'Port of the HTTP endpoint with /metrics (Prometheus: per-partition lag and seconds since progress, state entries and bytes per task, last restore time and records), /healthz and /readyz (503 while the consumer is stopped, a task failed or a Kafka outage is ridden out); 0 picks a free port.',
      ),
    PROCESSOR_SHUTDOWN_GRACE_MS: intVar(0)
      .default(30_000)
      .describe('Time allowed on shutdown for the batch in flight to finish and its state to be written.'),
  })
  .refine((c) => c.PROCESSOR_HEARTBEAT_INTERVAL_MS < c.PROCESSOR_SESSION_TIMEOUT_MS, {
    message: 'PROCESSOR_HEARTBEAT_INTERVAL_MS must be below PROCESSOR_SESSION_TIMEOUT_MS',
    path: ['PROCESSOR_HEARTBEAT_INTERVAL_MS'],
  });

/** The processor's config as it reads it: camelCase, grouped by concern. */
export const ProcessorConfigSchema = ProcessorEnvSchema.transform((e) => ({
  logLevel: e.LOG_LEVEL,
  ...toKafkaConfig(e),
  groupId: e.PROCESSOR_GROUP_ID,
  sessionTimeoutMs: e.PROCESSOR_SESSION_TIMEOUT_MS,
  heartbeatIntervalMs: e.PROCESSOR_HEARTBEAT_INTERVAL_MS,
  punctuateIntervalMs: e.PROCESSOR_PUNCTUATE_INTERVAL_MS,
  idleAfterMs: e.PROCESSOR_IDLE_AFTER_MS,
  maxBytesPerPartition: e.PROCESSOR_MAX_BYTES_PER_PARTITION,
  fetchMaxWaitMs: e.PROCESSOR_FETCH_MAX_WAIT_MS,
  commitIntervalMs: e.PROCESSOR_COMMIT_INTERVAL_MS,
  partitionsConcurrency: e.PROCESSOR_PARTITIONS_CONCURRENCY,
  detectionConfig: e.PROCESSOR_DETECTION_CONFIG,
  metricsPort: e.PROCESSOR_METRICS_PORT,
  shutdownGraceMs: e.PROCESSOR_SHUTDOWN_GRACE_MS,
}));

export type ProcessorConfig = z.infer<typeof ProcessorConfigSchema>;

/** Parses the processor's variables once; the entry point passes the environment. */
export function loadProcessorConfig(env: Env): ProcessorConfig {
  return loadConfig(ProcessorConfigSchema, env);
}

/**
 * The detection thresholds named by PROCESSOR_DETECTION_CONFIG: inline JSON when the value
 * starts with `{`, otherwise a file read through `readText` (injected: main passes the file
 * system, tests a map).
 */
export function resolveDetectionConfig(value: string | undefined, readText: (path: string) => string): CoreConfig {
  if (value === undefined || value.trim() === '') return parseCoreConfig({});
  const trimmed = value.trim();
  let text = trimmed;
  if (!trimmed.startsWith('{')) {
    try {
      text = readText(trimmed);
    } catch (error) {
      throw PROCESSOR_ERRORS.create('PROCESSOR_DETECTION_CONFIG_UNREADABLE', `cannot read detection config ${trimmed}: ${describe(error)}`, {
        cause: error,
        context: { path: trimmed },
      });
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw PROCESSOR_ERRORS.create('PROCESSOR_DETECTION_CONFIG_UNREADABLE', `detection config is not JSON: ${describe(error)}`, { cause: error });
  }
  return parseCoreConfig(json);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
