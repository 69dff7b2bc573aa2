import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { STACK_ERRORS } from './errors';
import { PINNED_ARTIFACT_SHA256 } from './pinned-artifacts';

/** Hex SHA-256 of a file, streamed (a distribution is hundreds of MB). */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Checks one downloaded file against its pinned digest before anything reads it. A file
 * that fails is deleted, so the next `stack up` downloads it again rather than trusting it.
 */
export async function verifyArtifact(path: string, fileName: string, pinned: Readonly<Record<string, string>> = PINNED_ARTIFACT_SHA256): Promise<void> {
  const expected = Object.hasOwn(pinned, fileName) ? pinned[fileName] : undefined;
  if (expected === undefined) {
    await rm(path, { force: true });
    throw STACK_ERRORS.create('STACK_ARTIFACT_NOT_PINNED', `${fileName} has no pinned SHA-256 in tools/stack/src/pinned-artifacts.ts; it was not used`, {
      context: { file: path },
    });
  }
  const actual = await sha256OfFile(path);
  if (actual !== expected) {
    await rm(path, { force: true });
    throw STACK_ERRORS.create('STACK_ARTIFACT_DIGEST_MISMATCH', `${fileName}: SHA-256 ${actual} is not the pinned ${expected}; the file was deleted and nothing was started`, {
      context: { file: path, expected, actual },
    });
  }
}

/** Verifies every .jar and .zip of a folder (a resolved class path); the first failure throws. */
export async function verifyArtifactsIn(dir: string, pinned: Readonly<Record<string, string>> = PINNED_ARTIFACT_SHA256): Promise<number> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.jar') || name.endsWith('.zip')).sort();
  for (const name of files) await verifyArtifact(join(dir, name), name, pinned);
  return files.length;
}
