import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { PartitionProgressTracker } from './partition-progress';

/** The services that serve /metrics; the name is part of every series they export. */
export type MetricsServiceName = 'collector' | 'processor' | 'indexer' | 'notifier';

/** A service's Prometheus registry and the prefix all of its series share. */
export interface ServiceMetrics {
  readonly registry: Registry;
  /** `calwatch_<service>_`. */
  readonly prefix: string;
}

export interface ServiceMetricsOptions {
  /** Process metrics (CPU, memory, event loop lag, GC); off in tests that build many services in one process. */
  processMetrics?: boolean;
}

/**
 * The one way a service creates its metrics: a registry of its own (no global default
 * registry, so several services in one process never collide) with the process metrics
 * under the service's prefix. Served at /metrics by the probe server (or the collector's app).
 */
export function createServiceMetrics(service: MetricsServiceName, options: ServiceMetricsOptions = {}): ServiceMetrics {
  const registry = new Registry();
  const prefix = `calwatch_${service}_`;
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });
  return { registry, prefix };
}

/** `<prefix>ready`: 1 while the service would answer /readyz with 200, computed when scraped. */
export function registerReadyGauge(metrics: ServiceMetrics, isReady: () => boolean, help: string): void {
  new Gauge({
    name: `${metrics.prefix}ready`,
    help,
    registers: [metrics.registry],
    collect() {
      this.set(isReady() ? 1 : 0);
    },
  });
}

/**
 * `<prefix>partition_lag` and `<prefix>seconds_since_progress` per assigned input
 * partition, read from the consumer's progress tracker when scraped.
 */
export function registerPartitionProgressGauges(metrics: ServiceMetrics, progress: PartitionProgressTracker): void {
  new Gauge({
    name: `${metrics.prefix}partition_lag`,
    help: 'Records of an assigned input partition not yet handled by this instance (log end minus next offset).',
    labelNames: ['topic', 'partition'],
    registers: [metrics.registry],
    collect() {
      this.reset();
      for (const p of progress.view()) if (p.lag !== undefined) this.set({ topic: p.topic, partition: String(p.partition) }, p.lag);
    },
  });
  new Gauge({
    name: `${metrics.prefix}seconds_since_progress`,
    help: 'Seconds since an assigned input partition last handled a batch or was seen caught up; grows while it is stuck.',
    labelNames: ['topic', 'partition'],
    registers: [metrics.registry],
    collect() {
      this.reset();
      for (const p of progress.view()) this.set({ topic: p.topic, partition: String(p.partition) }, p.secondsSinceProgress);
    },
  });
}
