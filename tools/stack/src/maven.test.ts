import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildKafkaPom, COMPLETE_MARKER, isComplete } from './maven';

describe('Kafka runtime pom', () => {
  it('asks for the broker and a log4j backend for its slf4j API', () => {
    const pom = buildKafkaPom('4.4.0', '2.25.5');
    expect(pom).toMatch(/<artifactId>kafka_2\.13<\/artifactId>\s*<version>4\.4\.0<\/version>/);
    expect(pom).toMatch(/<artifactId>log4j-slf4j-impl<\/artifactId>\s*<version>2\.25\.5<\/version>/);
  });
});

describe('download markers', () => {
  it('treats a directory as complete only once its marker exists', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'calwatch-maven-'));
    try {
      expect(await isComplete(dir)).toBe(false);
      await writeFile(join(dir, COMPLETE_MARKER), 'ok');
      expect(await isComplete(dir)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
