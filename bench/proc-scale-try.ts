import { runProcessorBench } from './processor.bench';
const r = await runProcessorBench({ servers: 4, devicesPerServer: 25_000, days: 90, partitions: 6 });
process.stdout.write(JSON.stringify(r, null, 1) + '\n');
