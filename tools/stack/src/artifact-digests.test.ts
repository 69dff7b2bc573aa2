import { createHash } from 'node:crypto';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { DEFAULT_ELASTICSEARCH_VERSION, DEFAULT_KAFKA_VERSION } from './settings';
import { COMPLETE_MARKER, KAFKA_LOG4J_BINDING_VERSION, buildMvnArgs, ensureMavenLibs } from './maven';
import { sha256OfFile, verifyArtifact, verifyArtifactsIn } from './artifact-digests';
import { PINNED_ARTIFACT_SHA256 } from './pinned-artifacts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'calwatch-artifacts-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const exists = (path: string) => access(path).then(() => true, () => false);

describe('pinned artifact digests', () => {
  it('pins the default Kafka broker jars and the default Elasticsearch distribution', () => {
    expect(PINNED_ARTIFACT_SHA256[`kafka_2.13-${DEFAULT_KAFKA_VERSION}.jar`]).toMatch(/^[0-9a-f]{64}$/);
    expect(PINNED_ARTIFACT_SHA256[`kafka-clients-${DEFAULT_KAFKA_VERSION}.jar`]).toMatch(/^[0-9a-f]{64}$/);
    expect(PINNED_ARTIFACT_SHA256[`log4j-slf4j-impl-${KAFKA_LOG4J_BINDING_VERSION}.jar`]).toMatch(/^[0-9a-f]{64}$/);
    expect(PINNED_ARTIFACT_SHA256[`elasticsearch-${DEFAULT_ELASTICSEARCH_VERSION}.zip`]).toMatch(/^[0-9a-f]{64}$/);
  });

  it('asks Maven for strict checksums', () => {
    expect(buildMvnArgs(['dependency:copy'])).toContain('-C');
  });

  it('hashes a file as sha256sum does', async () => {
    await writeFile(join(dir, 'a.jar'), 'jar bytes');
    expect(await sha256OfFile(join(dir, 'a.jar'))).toBe(sha256('jar bytes'));
  });

  it('accepts a file with its pinned digest', async () => {
    await writeFile(join(dir, 'a.jar'), 'jar bytes');
    await verifyArtifact(join(dir, 'a.jar'), 'a.jar', { 'a.jar': sha256('jar bytes') });
    expect(await exists(join(dir, 'a.jar'))).toBe(true);
  });

  it('refuses and deletes a tampered file', async () => {
    await writeFile(join(dir, 'kafka-clients.jar'), 'jar bytes with a backdoor');
    const error = await verifyArtifactsIn(dir, { 'kafka-clients.jar': sha256('jar bytes') }).catch((e: unknown) => e);
    expect(isCalwatchError(error, 'STACK_ARTIFACT_DIGEST_MISMATCH')).toBe(true);
    expect((error as Error).message).toContain(sha256('jar bytes'));
    expect(await exists(join(dir, 'kafka-clients.jar'))).toBe(false);
  });

  it('refuses a file without a pinned digest (a dependency nobody checked)', async () => {
    await writeFile(join(dir, 'good.jar'), 'good');
    await writeFile(join(dir, 'extra.jar'), 'unexpected');
    const error = await verifyArtifactsIn(dir, { 'good.jar': sha256('good') }).catch((e: unknown) => e);
    expect(isCalwatchError(error, 'STACK_ARTIFACT_NOT_PINNED')).toBe(true);
    expect((error as Error).message).toContain('extra.jar');
  });

  it('does not take a name inherited from the object prototype for a pin', async () => {
    await writeFile(join(dir, 'constructor'), 'x');
    const error = await verifyArtifact(join(dir, 'constructor'), 'constructor', {}).catch((e: unknown) => e);
    expect(isCalwatchError(error, 'STACK_ARTIFACT_NOT_PINNED')).toBe(true);
  });
});

describe('a download made before the digests were pinned', () => {
  it('is checked on the next use rather than trusted, and downloaded again after a mismatch', async () => {
    const libsDir = join(dir, 'libs');
    await mkdir(libsDir, { recursive: true });
    const jar = `kafka-clients-${DEFAULT_KAFKA_VERSION}.jar`;
    await writeFile(join(libsDir, jar), 'not the published jar');
    await writeFile(join(libsDir, COMPLETE_MARKER), '45 jars\n');
    const error = await ensureMavenLibs({ mavenDir: dir, libsDir, pom: '', mainJar: jar, javaHome: '/nonexistent', env: process.env }).catch((e: unknown) => e);
    expect(isCalwatchError(error, 'STACK_ARTIFACT_DIGEST_MISMATCH')).toBe(true);
    expect(await exists(join(libsDir, jar))).toBe(false);
    expect(await exists(join(libsDir, COMPLETE_MARKER))).toBe(false);
  });
});
