import { Gauge, Registry } from 'prom-client';
import type { PartitionProgressTracker } from './partition-progress';

/** The processor's Prometheus metrics, in a registry of its own, computed when scraped. */
export function createProcessorMetrics(options: { progress: PartitionProgressTracker; isReady: () => boolean }): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'calwatch_processor_partition_lag',
    help: 'Records of an assigned input partition not yet handled by this instance (log end minus next offset).',
    labelNames: ['topic', 'partition'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of options.progress.view()) if (p.lag !== undefined) this.set({ topic: p.topic, partition: String(p.partition) }, p.lag);
    },
  });
  new Gauge({
    name: 'calwatch_processor_seconds_since_progress',
    help: 'Seconds since an assigned input partition last handled a batch or was seen caught up; grows while it is stuck.',
    labelNames: ['topic', 'partition'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of options.progress.view()) this.set({ topic: p.topic, partition: String(p.partition) }, p.secondsSinceProgress);
    },
  });
  new Gauge({
    name: 'calwatch_processor_ready',
    help: '1 while the processor consumes and no outage or failed task holds it back, else 0 (as /readyz).',
    registers: [registry],
    collect() {
      this.set(options.isReady() ? 1 : 0);
    },
  });
  return registry;
}
