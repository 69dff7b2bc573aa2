/**
 * calwatch at the size of the estates it is for, every path in one run, each figure next to
 * its target and, where there is one, its ceiling (the broker's own consumer, a raw read):
 *
 *   npm run bench -- scale          (writes bench/results/scale.json)
 *
 * - analyze of PowerShell 5.1 exports of 120,000 and 1,000,000 rows (time, peak memory);
 * - the detection core on one core (events/s, state per tracked HWID);
 * - the streaming processor on four license servers of 25,000 simulated devices over 90 days,
 *   with a raw read of the same topic and the broker's ConsumerPerformance, and a restore of
 *   all of that state by a fresh instance; then the same workload through one `calwatch
 *   processor` process per core in one consumer group;
 * - the collector taking a 100,000-row snapshot, gzip-compressed;
 * - 2,000 events/s for five minutes through collector, processor and indexer (latency, lag, memory);
 * - first, the machine's memory latency, which the detection core's cost per event follows.
 * The broker and node come from the environment or the local stack (`calwatch stack up`).
 */
import { availableParallelism } from 'node:os';
import { runAnalyzeBench } from './analyze.bench';
import { runCoreBench } from './core.bench';
import { runIngestHttpBench } from './ingest-http.bench';
import { measureMemoryLatency } from './memory-latency';
import { runProcessorBench } from './processor.bench';
import { runSustainedBench } from './sustained.bench';
import type { BenchResult } from './run';

interface Target {
  /** The result and metric it reads. */
  result: string;
  metric: string;
  /** What must hold, for the reader. */
  text: string;
  met: (value: number) => boolean;
}

const TARGETS: Target[] = [
  { result: 'analyze-120k', metric: 'secondsMin', text: '<= 3 s', met: (v) => v <= 3 },
  { result: 'analyze-1m', metric: 'secondsMin', text: '<= 15 s', met: (v) => v <= 15 },
  // In bytes: the GiB figure is rounded to two places, and a peak of 1.004 GiB showed as 1.
  { result: 'analyze-1m', metric: 'peakRssBytesMax', text: '<= 1 GiB (1,073,741,824 bytes)', met: (v) => v <= 2 ** 30 },
  { result: 'core-simulator', metric: 'eventsPerCpuSecond', text: '>= 200,000 events/s on one core', met: (v) => v >= 200_000 },
  { result: 'core-simulator', metric: 'heapBytesPerHwid', text: '<= 500 B per tracked HWID', met: (v) => v <= 500 },
  { result: 'processor end to end', metric: 'eventsPerSecond', text: '>= 20,000 events/s end to end', met: (v) => v >= 20_000 },
  { result: 'processor end to end, one process per core', metric: 'eventsPerSecond', text: '>= 20,000 events/s end to end', met: (v) => v >= 20_000 },
  { result: 'state restore from the changelogs', metric: 'recordsPerSecond', text: '>= 200,000 records/s', met: (v) => v >= 200_000 },
  { result: 'state restore from the changelogs', metric: 'readyMs', text: 'ready in <= 5 s', met: (v) => v <= 5_000 },
  { result: 'state restore in a restarted processor process', metric: 'recordsPerSecond', text: '>= 200,000 records/s', met: (v) => v >= 200_000 },
  { result: 'state restore in a restarted processor process', metric: 'readyMs', text: 'ready in <= 5 s', met: (v) => v <= 5_000 },
  { result: 'snapshot-issued-licenses', metric: 'elapsedMs', text: '100k-row gzip snapshot accepted and published in <= 5 s', met: (v) => v <= 5_000 },
  { result: 'sustained: collector accept -> finding searchable', metric: 'achievedEventsPerSecond', text: '2,000 events/s held for 5 minutes', met: (v) => v >= 1_990 },
  { result: 'sustained: collector accept -> finding searchable', metric: 'p99Ms', text: 'p99 accept -> finding searchable <= 1.5 s', met: (v) => v <= 1_500 },
];

/** The targets each result is held to, as metrics of its own (`target:<metric>`, `met:<metric>`). */
export function annotateTargets(results: BenchResult[]): BenchResult[] {
  return results.map((result) => {
    const metrics = { ...result.metrics };
    for (const target of TARGETS.filter((t) => t.result === result.name)) {
      const value = metrics[target.metric];
      metrics[`target:${target.metric}`] = target.text;
      metrics[`met:${target.metric}`] = typeof value === 'number' ? (target.met(value) ? 'yes' : 'no') : 'not measured';
    }
    return { ...result, metrics };
  });
}

export async function runScaleBench(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const stage = async (name: string, run: () => Promise<BenchResult[]>) => {
    process.stderr.write(`scale: ${name} ...\n`);
    try {
      for (const result of await run()) results.push(result);
    } catch (error) {
      results.push({ name, metrics: { failed: error instanceof Error ? error.message : String(error) } });
    }
  };
  await stage('memory latency', async () => [measureMemoryLatency()]);
  await stage('analyze', () => runAnalyzeBench());
  await stage('core', () => runCoreBench({ devices: 100_000, days: 90 }));
  await stage('processor', () => runProcessorBench({ servers: 4, devicesPerServer: 25_000, days: 90, partitions: 6, processes: availableParallelism() }));
  await stage('collector', () => runIngestHttpBench({ requests: 4, snapshotRows: 100_000, snapshotGzip: true }));
  // Lag and memory over the run carry their own held flags (lagHeld, memoryHeld).
  await stage('sustained', () => runSustainedBench({ eventsPerSecond: 2_000, durationSeconds: 300 }));
  return annotateTargets(results);
}
