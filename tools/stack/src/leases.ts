import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { isProcessAlive } from './processes';

/**
 * Test runs share one local stack. Each run holds a lease (a file named for its pid)
 * while it uses the stack; components a run started on its own are recorded as
 * auto-started, and the last run to let go stops them. A person's `stack up` adopts the
 * stack (clears the record), so it then stays up until `stack down`.
 */
const autoStartedSchema = z.array(z.enum(['kafka', 'elasticsearch']));
export type LeasedComponent = z.infer<typeof autoStartedSchema>[number];

const AUTO_STARTED = 'auto-started.json';

export async function addLease(leasesDir: string, pid: number): Promise<void> {
  await mkdir(leasesDir, { recursive: true });
  await writeFile(join(leasesDir, String(pid)), new Date().toISOString() + '\n');
}

export async function removeLease(leasesDir: string, pid: number): Promise<void> {
  await rm(join(leasesDir, String(pid)), { force: true });
}

/** Pids of runs still holding a lease; leases of runs that died without letting go are dropped. */
export async function liveLeases(leasesDir: string): Promise<number[]> {
  const entries = await readdir(leasesDir).catch(() => [] as string[]);
  const live: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (await isProcessAlive(pid)) live.push(pid);
    else await rm(join(leasesDir, entry), { force: true });
  }
  return live;
}

export async function readAutoStarted(leasesDir: string): Promise<LeasedComponent[]> {
  try {
    const parsed = autoStartedSchema.safeParse(JSON.parse(await readFile(join(leasesDir, AUTO_STARTED), 'utf8')));
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

export async function writeAutoStarted(leasesDir: string, components: LeasedComponent[]): Promise<void> {
  await mkdir(leasesDir, { recursive: true });
  await writeFile(join(leasesDir, AUTO_STARTED), JSON.stringify([...new Set(components)]) + '\n');
}

export async function clearAutoStarted(leasesDir: string): Promise<void> {
  await rm(join(leasesDir, AUTO_STARTED), { force: true });
}
