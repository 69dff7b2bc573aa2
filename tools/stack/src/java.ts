import { execFile } from 'node:child_process';
import { access, readdir, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { STACK_ERRORS } from './errors';

const execFileAsync = promisify(execFile);

export interface Jdk {
  home: string;
  java: string;
  major: number;
  version: string;
}

/** Reads `JAVA_VERSION="17.0.15"` (or `"1.8.0_392"`) from a JDK's `release` file. */
export function parseReleaseFile(text: string): { version: string; major: number } | undefined {
  const match = /^JAVA_VERSION="([^"]+)"/m.exec(text);
  if (match?.[1] === undefined) return undefined;
  return { version: match[1], major: parseJavaMajor(match[1]) };
}

export function parseJavaMajor(version: string): number {
  const parts = version.split(/[.+_-]/);
  const first = Number(parts[0]);
  return first === 1 ? Number(parts[1]) : first;
}

/** Parses the first line of `java -version` output: `openjdk version "25.0.3" 2026-04-21 LTS`. */
export function parseJavaVersionOutput(text: string): { version: string; major: number } | undefined {
  const match = /version "([^"]+)"/.exec(text);
  if (match?.[1] === undefined) return undefined;
  return { version: match[1], major: parseJavaMajor(match[1]) };
}

async function inspect(home: string): Promise<Jdk | undefined> {
  const java = join(home, 'bin', 'java');
  try {
    await access(java);
  } catch {
    return undefined;
  }
  try {
    const parsed = parseReleaseFile(await readFile(join(home, 'release'), 'utf8'));
    if (parsed !== undefined) return { home, java, ...parsed };
  } catch {
    // No release file (some distro layouts): ask the binary.
  }
  try {
    const { stderr } = await execFileAsync(java, ['-version'], { timeout: 15_000 });
    const parsed = parseJavaVersionOutput(stderr);
    return parsed === undefined ? undefined : { home, java, ...parsed };
  } catch {
    return undefined;
  }
}

/** Every distinct JDK under the given roots (each entry of /usr/lib/jvm) and explicit homes. */
export async function discoverJdks(options: { explicitHomes: string[]; roots?: string[] }): Promise<Jdk[]> {
  const candidates = [...options.explicitHomes];
  for (const root of options.roots ?? ['/usr/lib/jvm']) {
    try {
      for (const entry of await readdir(root)) candidates.push(join(root, entry));
    } catch {
      // A missing root simply contributes nothing.
    }
  }
  const seen = new Set<string>();
  const jdks: Jdk[] = [];
  for (const candidate of candidates) {
    let real: string;
    try {
      real = await realpath(candidate);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    const jdk = await inspect(real);
    if (jdk !== undefined) jdks.push(jdk);
  }
  return jdks;
}

/**
 * Picks the newest JDK whose major lies in [min, max]; `max` is the newest major the
 * component was run on here, so an untested newer JDK is used only when nothing else fits.
 */
export function chooseJdk(jdks: Jdk[], range: { min: number; max: number }): Jdk | undefined {
  const byNewest = [...jdks].sort((a, b) => b.major - a.major);
  return byNewest.find((j) => j.major >= range.min && j.major <= range.max) ?? byNewest.find((j) => j.major >= range.min);
}

export async function findJdk(options: {
  component: string;
  preferredHome: string | undefined;
  explicitHomes: string[];
  range: { min: number; max: number };
}): Promise<Jdk> {
  if (options.preferredHome !== undefined) {
    const jdk = await inspect(options.preferredHome);
    if (jdk === undefined || jdk.major < options.range.min) {
      throw STACK_ERRORS.create(
        'STACK_JAVA_NOT_FOUND',
        `CALWATCH_JAVA_HOME=${options.preferredHome} is not a JDK ${options.range.min}+ (${options.component} needs one)`,
      );
    }
    return jdk;
  }
  const jdks = await discoverJdks({ explicitHomes: options.explicitHomes });
  const chosen = chooseJdk(jdks, options.range);
  if (chosen === undefined) {
    const found = jdks.map((j) => `${j.home} (${j.version})`).join(', ') || 'none';
    throw STACK_ERRORS.create(
      'STACK_JAVA_NOT_FOUND',
      `${options.component} needs a JDK ${options.range.min}+; found: ${found}. Install one (e.g. apt-get install openjdk-17-jdk-headless) or set CALWATCH_JAVA_HOME.`,
    );
  }
  return chosen;
}
