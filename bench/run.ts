/**
 * `npm run bench`: runs every benchmark and writes its results under bench/results/.
 * `npm run bench -- core parsers` runs only those. Benchmarks that need Kafka or
 * Elasticsearch read them from the environment or the local stack (`calwatch stack up`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchResult {
  name: string;
  /** Free-form metrics with units in their names, e.g. rowsPerSecond, peakRssBytes. */
  metrics: Record<string, number | string>;
  notes?: string;
}

interface BenchModule {
  run(): Promise<BenchResult | BenchResult[]>;
}

const here = dirname(fileURLToPath(import.meta.url));

const BENCHES: Record<string, () => Promise<BenchModule>> = {
  parsers: async () => ({ run: (await import('./parsers.bench')).runParserBench }),
  core: async () => ({ run: (await import('./core.bench')).runCoreBench }),
  'ingest-http': async () => ({ run: (await import('./ingest-http.bench')).runIngestHttpBench }),
  indexer: async () => ({ run: (await import('./indexer.bench')).runIndexerBench }),
  e2e: async () => ({ run: (await import('./e2e.bench')).runE2eBench }),
  notifier: async () => ({ run: (await import('./notifier.bench')).runNotifierBench }),
  simulator: async () => ({ run: (await import('./simulator.bench')).runSimulatorBench }),
  processor: async () => ({ run: (await import('./processor.bench')).runProcessorBench }),
  scale: async () => ({ run: (await import('./scale.bench')).runScaleBench }),
  analyze: async () => ({ run: (await import('./analyze.bench')).runAnalyzeBench }),
  // A smaller run: KAFKA_CLIENTS_RECORDS=30000 KAFKA_CLIENTS_REPEATS=1 npm run bench -- kafka-clients
  'kafka-clients': async () => {
    const { runKafkaClientsBench } = await import('./kafka-clients.bench');
    const number = (value: string | undefined) => (value === undefined || value === '' ? undefined : Number(value));
    return { run: () => runKafkaClientsBench({ records: number(process.env.KAFKA_CLIENTS_RECORDS), repeats: number(process.env.KAFKA_CLIENTS_REPEATS) }) };
  },
  // A shorter or lighter run: SUSTAINED_EVENTS_PER_SECOND=500 SUSTAINED_DURATION_SECONDS=60 npm run bench -- sustained
  sustained: async () => {
    const { runSustainedBench } = await import('./sustained.bench');
    const number = (value: string | undefined) => (value === undefined || value === '' ? undefined : Number(value));
    return {
      run: () =>
        runSustainedBench({
          eventsPerSecond: number(process.env.SUSTAINED_EVENTS_PER_SECOND),
          durationSeconds: number(process.env.SUSTAINED_DURATION_SECONDS),
        }),
    };
  },
};

async function main(selected: string[]): Promise<void> {
  const names = selected.length > 0 ? selected : Object.keys(BENCHES);
  const machine = { node: process.version, platform: `${process.platform}-${process.arch}`, cpus: (await import('node:os')).cpus().length };
  let failed = 0;
  for (const name of names) {
    const load = BENCHES[name];
    if (load === undefined) throw new Error(`unknown benchmark '${name}' (known: ${Object.keys(BENCHES).join(', ')})`);
    process.stderr.write(`bench: ${name} ...\n`);
    try {
      const results = await (await load()).run();
      const file = join(here, 'results', `${name}.json`);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify({ at: new Date().toISOString(), machine, results }, null, 2) + '\n');
      process.stdout.write(`${name}: ${JSON.stringify(results)}\n`);
    } catch (error) {
      failed++;
      process.stderr.write(`bench: ${name} failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
  process.exitCode = failed === 0 ? 0 : 1;
}

await main(process.argv.slice(2));
