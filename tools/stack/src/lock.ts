import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { STACK_ERRORS } from './errors';
import { isProcessAlive, sleep } from './processes';

/**
 * Runs `fn` holding a directory lock (mkdir is atomic). A lock whose owner died is taken
 * over, so a crashed `stack up` never wedges the next one.
 */
export async function withLock<T>(lockDir: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  await mkdir(dirname(lockDir), { recursive: true });
  const ownerFile = join(lockDir, 'owner');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Built aside and renamed into place, so a lock never exists without its owner.
    const staging = `${lockDir}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    await mkdir(staging);
    await writeFile(join(staging, 'owner'), String(process.pid));
    try {
      await rename(staging, lockDir);
      break;
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw error;
    }
    const owner = Number(await readFile(ownerFile, 'utf8').catch(() => ''));
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !(await isProcessAlive(owner))) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw STACK_ERRORS.create('STACK_LOCKED', `${lockDir} is held by pid ${owner || 'unknown'}; another calwatch stack command is running`);
    }
    await sleep(250);
  }
  try {
    return await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}
