import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseJdk, discoverJdks, parseJavaMajor, parseJavaVersionOutput, parseReleaseFile, type Jdk } from './java';

describe('Java version parsing', () => {
  it('reads the major of modern and legacy version strings', () => {
    expect(parseJavaMajor('17.0.15')).toBe(17);
    expect(parseJavaMajor('25')).toBe(25);
    expect(parseJavaMajor('21-ea')).toBe(21);
    expect(parseJavaMajor('1.8.0_392')).toBe(8);
  });

  it('reads release files and java -version output', () => {
    expect(parseReleaseFile('IMPLEMENTOR="Eclipse Adoptium"\nJAVA_VERSION="25.0.3"\n')).toEqual({ version: '25.0.3', major: 25 });
    expect(parseReleaseFile('nothing here')).toBeUndefined();
    expect(parseJavaVersionOutput('openjdk version "17.0.15" 2025-04-15\nOpenJDK Runtime')).toEqual({ version: '17.0.15', major: 17 });
  });
});

describe('chooseJdk', () => {
  const jdk = (major: number): Jdk => ({ home: `/jdk${major}`, java: `/jdk${major}/bin/java`, major, version: String(major) });

  it('takes the newest JDK inside the tested range', () => {
    expect(chooseJdk([jdk(17), jdk(21), jdk(26)], { min: 17, max: 25 })?.major).toBe(21);
  });

  it('falls back to an untested newer JDK rather than none, never to an older one', () => {
    expect(chooseJdk([jdk(11), jdk(26)], { min: 17, max: 25 })?.major).toBe(26);
    expect(chooseJdk([jdk(11)], { min: 17, max: 25 })).toBeUndefined();
  });
});

describe('discoverJdks', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'calwatch-jdks-'));
    for (const [name, version] of [['jdk-a', '21.0.2'], ['jdk-b', '17.0.9']] as const) {
      await mkdir(join(root, name, 'bin'), { recursive: true });
      await writeFile(join(root, name, 'bin', 'java'), '#!/bin/sh\n');
      await chmod(join(root, name, 'bin', 'java'), 0o755);
      await writeFile(join(root, name, 'release'), `JAVA_VERSION="${version}"\n`);
    }
    await mkdir(join(root, 'not-a-jdk'));
    // Debian's alias symlinks must not count twice.
    await symlink(join(root, 'jdk-a'), join(root, 'jdk-a-alias'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('finds each JDK once, from roots and explicit homes', async () => {
    const found = await discoverJdks({ explicitHomes: [join(root, 'jdk-b')], roots: [root] });
    expect(found.map((j) => j.major).sort()).toEqual([17, 21]);
  });
});
