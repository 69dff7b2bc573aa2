import { chmod, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { readJsonFile } from '@calwatch/runtime';
import { STACK_ERRORS } from './errors';

/** stack.json: how to reach the running local stack. Written by `stack up`, removed by `down`. */
export const stackInfoSchema = z.object({
  format: z.literal(1),
  stateDir: z.string(),
  startedAt: z.string(),
  kafka: z.object({
    brokers: z.array(z.string()).min(1),
    version: z.string(),
    port: z.number().int(),
    controllerPort: z.number().int(),
    pid: z.number().int(),
    javaHome: z.string(),
    dataDir: z.string(),
    serverLog: z.string(),
    stdoutLog: z.string(),
  }),
  elasticsearch: z.object({
    url: z.string().url(),
    username: z.string(),
    password: z.string(),
    passwordFile: z.string(),
    version: z.string(),
    port: z.number().int(),
    transportPort: z.number().int(),
    pid: z.number().int(),
    javaHome: z.string(),
    runAsUser: z.string().nullable(),
    homeDir: z.string(),
    dataDir: z.string(),
    serverLog: z.string(),
    stdoutLog: z.string(),
  }),
  /** Present when the stack runs in TLS mode (`stack up --tls`); absent means plain. */
  tls: z
    .object({
      caFile: z.string(),
      /** SHA-256 of the CA certificate, colon-separated upper-case hex. */
      caFingerprint: z.string(),
      kafka: z.object({
        saslMechanism: z.literal('scram-sha-512'),
        username: z.string(),
        password: z.string(),
        clientCertFile: z.string(),
        clientKeyFile: z.string(),
      }),
      /** A server certificate for a collector on this machine (localhost, 127.0.0.1). */
      collector: z.object({ certFile: z.string(), keyFile: z.string() }),
    })
    .optional(),
});
export type StackInfo = z.infer<typeof stackInfoSchema>;

export async function readStackInfoFile(file: string): Promise<StackInfo | undefined> {
  const parsed = await readJsonFile(file, stackInfoSchema);
  if (parsed === undefined) return undefined;
  if (!parsed.success) {
    throw STACK_ERRORS.create('STACK_STATE_INVALID', `${file} does not describe a stack; run 'calwatch stack down' then 'up'`, {
      context: { file, issues: parsed.error.issues },
    });
  }
  return parsed.data;
}

/**
 * The variables that connect calwatch to the stack, by what they are for: in TLS mode the
 * CA, the client certificate and SASL for Kafka, the CA file and fingerprint for
 * Elasticsearch, and a server certificate for the collector's HTTPS.
 */
export function buildStackConnectionEnv(info: StackInfo): { kafka: Record<string, string>; elasticsearch: Record<string, string>; collector: Record<string, string> } {
  const kafka: Record<string, string> = { KAFKA_BROKERS: info.kafka.brokers.join(',') };
  const elasticsearch: Record<string, string> = {
    ELASTICSEARCH_URL: info.elasticsearch.url,
    ELASTICSEARCH_USERNAME: info.elasticsearch.username,
    ELASTICSEARCH_PASSWORD: info.elasticsearch.password,
  };
  const collector: Record<string, string> = {};
  const tls = info.tls;
  if (tls !== undefined) {
    Object.assign(kafka, {
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: tls.caFile,
      KAFKA_SSL_CERT_FILE: tls.kafka.clientCertFile,
      KAFKA_SSL_KEY_FILE: tls.kafka.clientKeyFile,
      KAFKA_SASL_MECHANISM: tls.kafka.saslMechanism,
      KAFKA_SASL_USERNAME: tls.kafka.username,
      KAFKA_SASL_PASSWORD: tls.kafka.password,
    });
    Object.assign(elasticsearch, { ELASTICSEARCH_CA_FILE: tls.caFile, ELASTICSEARCH_CA_FINGERPRINT: tls.caFingerprint });
    Object.assign(collector, { COLLECTOR_TLS_CERT_FILE: tls.collector.certFile, COLLECTOR_TLS_KEY_FILE: tls.collector.keyFile });
  }
  return { kafka, elasticsearch, collector };
}

/**
 * The variables calwatch services and tests read, as a shell-sourceable file
 * (`set -a; . stack.env; set +a`).
 */
export function buildStackEnv(info: StackInfo): string {
  const { kafka, elasticsearch, collector } = buildStackConnectionEnv(info);
  const vars = Object.entries({ ...kafka, ...elasticsearch, ...collector });
  return ['# Written by calwatch stack up.', ...vars.map(([k, v]) => `${k}='${v.replaceAll("'", "'\\''")}'`), ''].join('\n');
}

/** Both files hold the Elasticsearch (and in TLS mode the Kafka SASL) password: owner-only. */
export async function writeStackInfo(files: { stackJson: string; stackEnv: string }, info: StackInfo): Promise<void> {
  await writeFile(files.stackJson, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
  await writeFile(files.stackEnv, buildStackEnv(info), { mode: 0o600 });
  // `mode` applies only when a file is created; an older file may be wider.
  await chmod(files.stackJson, 0o600);
  await chmod(files.stackEnv, 0o600);
}

export async function removeStackInfo(files: { stackJson: string; stackEnv: string }): Promise<void> {
  await rm(files.stackJson, { force: true });
  await rm(files.stackEnv, { force: true });
}
