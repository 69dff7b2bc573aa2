import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Writes bench/results/<name>.json: when, on what machine, and the results. */
export async function writeBenchResults(name: string, results: unknown): Promise<void> {
  const file = join(dirname(fileURLToPath(import.meta.url)), 'results', `${name}.json`);
  await mkdir(dirname(file), { recursive: true });
  const machine = { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: cpus().length };
  await writeFile(file, `${JSON.stringify({ at: new Date().toISOString(), machine, results }, null, 2)}\n`);
}
