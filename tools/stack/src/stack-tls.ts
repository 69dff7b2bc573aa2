import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { readJsonFile } from '@calwatch/runtime';
import { createCertificateAuthority, readCertificateExpiry, readCertificateFingerprint, type IssuedCertificate } from './certificates';
import { STACK_ERRORS } from './errors';

/** The TLS mode's CA and what it signed, all PEM in the stack's tls/ folder. */
export interface StackCertificates {
  caFile: string;
  caFingerprint: string;
  kafka: IssuedCertificate & { /** Key then certificate, the broker's PEM keystore. */ keyAndCertFile: string };
  elasticsearch: IssuedCertificate;
  /** What calwatch's Kafka clients present (the broker requires a client certificate). */
  client: IssuedCertificate;
  collector: IssuedCertificate;
}

// Long enough not to bother a developer, short enough that browsers and tools still accept it.
const CERTIFICATE_DAYS = 397;
const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;
const NAMES = { kafka: 'kafka', elasticsearch: 'elasticsearch', client: 'calwatch-client', collector: 'collector' } as const;

function certificatesIn(dir: string): Omit<StackCertificates, 'caFingerprint'> {
  const issued = (name: string): IssuedCertificate => ({ certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) });
  return {
    caFile: join(dir, 'ca.pem'),
    kafka: { ...issued(NAMES.kafka), keyAndCertFile: join(dir, 'kafka-keystore.pem') },
    elasticsearch: issued(NAMES.elasticsearch),
    client: issued(NAMES.client),
    collector: issued(NAMES.collector),
  };
}

/**
 * The stack's certificates: those already in `dir` while every one is valid for another week,
 * else a new CA and set (only when `mayRenew`: nothing runs that uses the old ones).
 */
export async function ensureStackCertificates(dir: string, options: { mayRenew: boolean; now?: Date }): Promise<StackCertificates> {
  const files = certificatesIn(dir);
  const certFiles = [files.caFile, files.kafka.certFile, files.elasticsearch.certFile, files.client.certFile, files.collector.certFile];
  const limit = (options.now ?? new Date()).getTime() + RENEW_BEFORE_MS;
  const expiries = await Promise.all(certFiles.map((file) => readCertificateExpiry(file)));
  if (expiries.every((expiry) => expiry !== undefined && expiry.getTime() > limit)) {
    return { ...files, caFingerprint: await readCertificateFingerprint(files.caFile) };
  }
  if (!options.mayRenew) {
    throw STACK_ERRORS.create(
      'STACK_STATE_INVALID',
      `the TLS certificates in ${dir} are missing or expire within a week, and the running stack uses them; run 'calwatch stack down', then 'calwatch stack up --tls' to renew them`,
      { context: { dir } },
    );
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await createCertificateAuthority({ dir, subject: 'calwatch local stack CA', days: CERTIFICATE_DAYS });
  for (const name of Object.values(NAMES)) await ca.issue(name);
  await writeFile(files.kafka.keyAndCertFile, (await readFile(files.kafka.keyFile, 'utf8')) + (await readFile(files.kafka.certFile, 'utf8')), { mode: 0o600 });
  return { ...files, caFingerprint: ca.caFingerprint };
}

const credentials = z.object({ username: z.string().min(1), password: z.string().min(16) });
const scramUsersSchema = z.object({ broker: credentials, client: credentials });
export type KafkaScramUsers = z.infer<typeof scramUsersSchema>;

export const KAFKA_CLIENT_USER = 'calwatch';
const KAFKA_BROKER_USER = 'calwatch-broker';

/**
 * The SCRAM users of the TLS storage. They exist in the cluster only when the storage is
 * formatted, so they are written before it and must never change after: a formatted
 * storage without its users file is refused.
 */
export async function ensureKafkaScramUsers(file: string, options: { storageFormatted: boolean }): Promise<KafkaScramUsers> {
  const parsed = await readJsonFile(file, scramUsersSchema);
  if (parsed?.success === true) return parsed.data;
  if (options.storageFormatted) {
    throw STACK_ERRORS.create(
      'STACK_STATE_INVALID',
      `the Kafka TLS storage exists but its SCRAM users file ${file} is ${parsed === undefined ? 'missing' : 'unreadable'}; run 'calwatch stack down --purge', then 'calwatch stack up --tls'`,
      { context: { file } },
    );
  }
  // Hex: nothing to quote in the JAAS line or in kafka-storage's --add-scram syntax.
  const users: KafkaScramUsers = {
    broker: { username: KAFKA_BROKER_USER, password: randomBytes(18).toString('hex') },
    client: { username: KAFKA_CLIENT_USER, password: randomBytes(18).toString('hex') },
  };
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(users, null, 2) + '\n', { mode: 0o600 });
  await chmod(file, 0o600);
  return users;
}
