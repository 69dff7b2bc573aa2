import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { ensureKafkaScramUsers, ensureStackCertificates } from './stack-tls';

describe('the TLS mode’s certificates and SCRAM users', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'calwatch-stack-tls-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('makes a CA that signs every certificate, keeps it while valid and renews it only when allowed', async () => {
    const tlsDir = join(dir, 'tls');
    const first = await ensureStackCertificates(tlsDir, { mayRenew: true });
    const ca = new X509Certificate(await readFile(first.caFile));
    expect(first.caFingerprint).toBe(ca.fingerprint256);
    for (const issued of [first.kafka, first.elasticsearch, first.client, first.collector]) {
      const cert = new X509Certificate(await readFile(issued.certFile));
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(cert.checkHost('localhost')).toBe('localhost');
      expect((await stat(issued.keyFile)).mode & 0o077).toBe(0);
    }
    // The broker's PEM keystore: its key, then its certificate.
    expect(await readFile(first.kafka.keyAndCertFile, 'utf8')).toBe((await readFile(first.kafka.keyFile, 'utf8')) + (await readFile(first.kafka.certFile, 'utf8')));

    expect((await ensureStackCertificates(tlsDir, { mayRenew: true })).caFingerprint).toBe(first.caFingerprint);
    // A year and more later every certificate has expired.
    const later = new Date(Date.now() + 400 * 24 * 3600 * 1000);
    await expect(ensureStackCertificates(tlsDir, { mayRenew: false, now: later })).rejects.toSatisfy((e: unknown) => isCalwatchError(e, 'STACK_STATE_INVALID'));
    const renewed = await ensureStackCertificates(tlsDir, { mayRenew: true, now: later });
    expect(renewed.caFingerprint).not.toBe(first.caFingerprint);
  }, 60_000);

  it('keeps the SCRAM users of a formatted storage and refuses one whose users are lost', async () => {
    const file = join(dir, 'kafka', 'scram-users.json');
    const made = await ensureKafkaScramUsers(file, { storageFormatted: false });
    expect(made.client.password).not.toBe(made.broker.password);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await ensureKafkaScramUsers(file, { storageFormatted: true })).toEqual(made);
    await writeFile(file, '{}');
    await expect(ensureKafkaScramUsers(file, { storageFormatted: true })).rejects.toSatisfy((e: unknown) => isCalwatchError(e, 'STACK_STATE_INVALID'));
    await rm(file);
    await expect(ensureKafkaScramUsers(file, { storageFormatted: true })).rejects.toSatisfy((e: unknown) => isCalwatchError(e, 'STACK_STATE_INVALID'));
  });
});
