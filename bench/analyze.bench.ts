/**
 * `calwatch analyze` at the size of a real license server: Windows PowerShell 5.1 exports of
 * Win32_TSIssuedLicense with 120,000 and 1,000,000 rows (writeScaleExport: healthy devices,
 * cloned images reissued hundreds of times, churning VDI names), each
 *  - run end to end as the command a user types (a child process, `--format json --as-of`),
 *    wall time and peak RSS from /usr/bin/time (or /proc VmHWM), `repeats` times;
 *  - split into phases in a child process of its own (bench/analyze-phases.ts): a raw read of
 *    the file (the ceiling), parse into license tables, diff, sort, building the events, the
 *    detection core alone, the report;
 *  - at 120,000 rows, the core's time by kind of device (bench/analyze-core-by-kind.ts).
 * Targets: 120k rows <= 3 s; 1M rows <= 15 s and <= 1 GiB peak RSS.
 *
 *   npx tsx bench/analyze.bench.ts [--rows 120000,1000000] [--repeats 3]   (writes bench/results/analyze.json)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SCALE_EXPORT_TAKEN_AT, writeScaleExport } from '@calwatch/simulator';
import { writeBenchResults } from './results-file';
import type { BenchResult } from './run';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CALWATCH = join(ROOT, 'services/cli/bin/calwatch');
const TSX = join(ROOT, 'node_modules/tsx/dist/loader.mjs');
const GiB = 1024 ** 3;
const TIME = '/usr/bin/time';

export interface AnalyzeBenchOptions {
  rows: number[];
  /** End-to-end runs per size (1M-row runs take minutes while the core is slow: once). */
  repeats: number;
}

const DEFAULTS: AnalyzeBenchOptions = { rows: [120_000, 1_000_000], repeats: 3 };

interface Measured {
  code: number;
  seconds: number;
  peakRssBytes: number;
  stdout: string;
  stderr: string;
}

/** Runs a command, measuring wall time and peak RSS (of the process that exec'd last). */
async function measure(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Measured> {
  const timed = existsSync(TIME);
  const child = spawn(timed ? TIME : command, timed ? ['-f', '%e %M', command, ...args] : args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  let stdoutBytes = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    stdoutBytes += chunk.length;
    if (stdout.length < 1 << 16) stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  // Without /usr/bin/time: the high-water mark of the child's RSS, read while it runs.
  let hwmKiB = 0;
  const poll = timed
    ? undefined
    : setInterval(() => {
        readFile(`/proc/${child.pid}/status`, 'utf8')
          .then((status) => {
            const match = /VmHWM:\s+(\d+)/.exec(status);
            if (match !== null) hwmKiB = Math.max(hwmKiB, Number(match[1]));
          })
          .catch(() => undefined);
      }, 50);
  const started = performance.now();
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const wall = (performance.now() - started) / 1000;
  if (poll !== undefined) clearInterval(poll);
  if (!timed) return { code, seconds: wall, peakRssBytes: hwmKiB * 1024, stdout, stderr };
  const lines = stderr.trimEnd().split('\n');
  const [elapsed, maxKiB] = (lines.at(-1) ?? '').split(' ').map(Number);
  return { code, seconds: elapsed ?? wall, peakRssBytes: (maxKiB ?? 0) * 1024, stdout: stdoutBytes > 0 ? stdout : '', stderr: lines.slice(0, -1).join('\n') };
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

async function benchSize(dir: string, rows: number, repeats: number): Promise<BenchResult[]> {
  const file = join(dir, `issued-licenses_${rows}_20260630T120000Z.csv`);
  const written = await writeScaleExport(file, { rows });
  const asOf = SCALE_EXPORT_TAKEN_AT;

  const runs: Measured[] = [];
  for (let i = 0; i < repeats; i++) {
    const run = await measure(CALWATCH, ['analyze', '--format', 'json', '--as-of', asOf, file]);
    if (run.code !== 0) throw new Error(`analyze of ${rows} rows exited ${run.code}: ${run.stderr.slice(0, 500)}`);
    runs.push(run);
  }
  const fastest = runs.reduce((min, r) => Math.min(min, r.seconds), Number.POSITIVE_INFINITY);
  const slowest = runs.reduce((max, r) => Math.max(max, r.seconds), 0);
  const peak = runs.reduce((max, r) => Math.max(max, r.peakRssBytes), 0);
  const end: BenchResult = {
    name: `analyze-${rows >= 1_000_000 ? `${rows / 1_000_000}m` : `${rows / 1000}k`}`,
    metrics: {
      rows,
      fileBytes: written.bytes,
      runs: repeats,
      secondsMin: round(fastest),
      secondsMax: round(slowest),
      rowsPerSecond: Math.round(rows / fastest),
      peakRssBytesMax: peak,
      peakRssGiBMax: round(peak / GiB),
      targetSeconds: rows >= 1_000_000 ? 15 : 3,
      targetPeakRssGiB: 1,
    },
    notes: 'calwatch analyze --format json --as-of <snapshot> <export.csv> as a child process, end to end (start-up, parse, diff, sort, detection core, report)',
  };

  // The C allocator set as services/cli/bin/calwatch sets it for analyze.
  const phases = await measure(process.execPath, ['--import', TSX, join(ROOT, 'bench/analyze-phases.ts'), file, asOf], {
    ...process.env,
    MALLOC_MMAP_THRESHOLD_: process.env['MALLOC_MMAP_THRESHOLD_'] ?? '1048576',
  });
  if (phases.code !== 0) throw new Error(`analyze-phases of ${rows} rows exited ${phases.code}: ${phases.stderr.slice(0, 500)}`);
  const split = JSON.parse(phases.stdout) as Record<string, number>;
  const breakdown: BenchResult = {
    name: `${end.name}-phases`,
    metrics: { ...split, seconds: round(phases.seconds), peakRssBytes: phases.peakRssBytes },
    notes:
      'one run split into phases (bench/analyze-phases.ts): ceilingReadS = streaming the file and counting lines; readS = parse into ' +
      'license tables; diffS = snapshot diff; sortS = de-duplicate and sort; buildS = building every CanonicalEvent; singleUseS = counting the keys one event alone names; coreS = ' +
      'createPipeline apply/advance/flush alone (with the input copied into the windows analyze lets go of as it reads them); reportS = findings and JSON. RSS after input = tables, diff and sorted index held.',
  };
  if (rows >= 1_000_000) return [end, breakdown];
  const byKindRun = await measure(process.execPath, ['--import', TSX, join(ROOT, 'bench/analyze-core-by-kind.ts'), file, asOf]);
  if (byKindRun.code !== 0) throw new Error(`analyze-core-by-kind of ${rows} rows exited ${byKindRun.code}: ${byKindRun.stderr.slice(0, 500)}`);
  const byKind: BenchResult = {
    name: `${end.name}-core-by-kind`,
    metrics: JSON.parse(byKindRun.stdout) as Record<string, number>,
    notes:
      'the detection core on the same events, each applied and released at once and timed by the kind of device it is about ' +
      '(bench/analyze-core-by-kind.ts): healthy devices, cloned images, churning VDI names; microseconds per event and share of the core',
  };
  return [end, breakdown, byKind];
}

export async function runAnalyzeBench(options: AnalyzeBenchOptions = DEFAULTS): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'calwatch-analyze-bench-'));
  try {
    const results: BenchResult[] = [];
    for (const rows of options.rows) {
      process.stderr.write(`bench: analyze ${rows} rows ...\n`);
      for (const result of await benchSize(dir, rows, rows >= 1_000_000 ? 1 : options.repeats)) results.push(result);
    }
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, repeats: { type: 'string' } } });
  const results = await runAnalyzeBench({
    rows: values.rows === undefined ? DEFAULTS.rows : values.rows.split(',').map(Number),
    repeats: values.repeats === undefined ? DEFAULTS.repeats : Number(values.repeats),
  });
  await writeBenchResults('analyze', results);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}
