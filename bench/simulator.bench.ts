/**
 * Fleet simulator at scale: a 100,000-machine fleet over 90 days streamed in memory
 * (events and daily snapshots, nothing kept), then written to disk as the default formats
 * with weekly snapshots. Reports wall time, items per second and peak RSS; the in-memory
 * run comes first so its peak is its own.
 *
 *   npx tsx bench/simulator.bench.ts [--devices N] [--days N]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_OUTPUT_FORMATS, simulateFleet, writeFleet } from '@calwatch/simulator';
import type { BenchResult } from './run';

export interface SimulatorBenchOptions {
  devices: number;
  days: number;
}

const DEFAULTS: SimulatorBenchOptions = { devices: 100_000, days: 90 };
const MiB = 1_048_576;
const peakRssMiB = (): number => Math.round(process.resourceUsage().maxRSS / 1024);

export async function runSimulatorBench(options: SimulatorBenchOptions = DEFAULTS): Promise<BenchResult[]> {
  const { devices, days } = options;
  const settings = { devices, days, seed: 42 };

  const started = performance.now();
  let events = 0;
  let snapshots = 0;
  let snapshotRows = 0;
  const simulation = simulateFleet(settings);
  for (const item of simulation.items()) {
    if (item.kind === 'event') events += 1;
    else {
      snapshots += 1;
      snapshotRows += item.snapshot.licenses.length;
    }
  }
  const inMemorySeconds = (performance.now() - started) / 1000;
  const inMemory: BenchResult = {
    name: `simulator in memory: ${devices} machines, ${days} days, daily snapshots`,
    metrics: {
      seconds: Number(inMemorySeconds.toFixed(1)),
      events,
      snapshots,
      snapshotRows,
      itemsPerSecond: Math.round((events + snapshotRows) / inMemorySeconds),
      licensesIssued: simulation.truth().totals.licensesIssued,
      peakRssMiB: peakRssMiB(),
      heapUsedMiB: Math.round(process.memoryUsage().heapUsed / MiB),
    },
  };

  const dir = await mkdtemp(join(tmpdir(), 'calwatch-sim-bench-'));
  try {
    const writeStarted = performance.now();
    const result = await writeFleet(simulateFleet({ ...settings, snapshotIntervalMs: 7 * 86_400_000 }), {
      outDir: join(dir, 'out'),
      formats: DEFAULT_OUTPUT_FORMATS,
    });
    const writeSeconds = (performance.now() - writeStarted) / 1000;
    const written: BenchResult = {
      name: `simulator to files (${DEFAULT_OUTPUT_FORMATS.join(', ')}): ${devices} machines, ${days} days, weekly snapshots`,
      metrics: {
        seconds: Number(writeSeconds.toFixed(1)),
        snapshots: result.snapshots,
        files: result.files,
        writtenMiB: Math.round(result.bytes / MiB),
        writtenMiBPerSecond: Number((result.bytes / MiB / writeSeconds).toFixed(1)),
        peakRssMiB: peakRssMiB(),
      },
    };
    return [inMemory, written];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href || process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { devices: { type: 'string' }, days: { type: 'string' } } });
  const results = await runSimulatorBench({
    devices: Number(values.devices ?? DEFAULTS.devices),
    days: Number(values.days ?? DEFAULTS.days),
  });
  console.log(JSON.stringify(results, null, 2));
}
