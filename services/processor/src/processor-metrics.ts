import { createServiceMetrics, registerPartitionProgressGauges, registerReadyGauge, type PartitionProgressTracker, type ServiceMetricsOptions } from '@calwatch/runtime';
import { Counter, Gauge, type Registry } from 'prom-client';
import { createRuntimeMetrics, type RuntimeMetrics } from './runtime/metrics';
import type { TaskMetrics } from './runtime/stream-runtime';

/**
 * The processor's one metrics object: the runtime's counters (plain numbers its tasks add to
 * on the hot path) and the Prometheus registry that exports them, with per-partition lag,
 * per-task state size and restore, all computed when scraped.
 */
export interface ProcessorMetrics {
  registry: Registry;
  /** `calwatch_processor_`. */
  prefix: string;
  runtime: RuntimeMetrics;
}

export interface ProcessorMetricsOptions extends ServiceMetricsOptions {
  progress: PartitionProgressTracker;
  isReady: () => boolean;
  /** The tasks this instance runs now. */
  tasks: () => readonly TaskMetrics[];
}

/** How each runtime counter is exported; the record type makes a new counter need a line here. */
const RUNTIME_COUNTERS: Readonly<Record<keyof RuntimeMetrics, { name: string; help: string; scale?: number }>> = {
  batches: { name: 'batches_total', help: 'Consumer batches handled.' },
  punctuationsWritten: { name: 'punctuations_written_total', help: 'Punctuations (wall-clock releases of idle partitions) that wrote something.' },
  sends: { name: 'producer_sends_total', help: 'Producer round trips acknowledged by the broker.' },
  changelogRecords: { name: 'changelog_records_total', help: 'State, buffer and meta records written to the changelog.' },
  commits: { name: 'offset_commits_total', help: 'Input offsets committed, each after the changelog records it depends on.' },
  records: { name: 'records_total', help: 'Input records handled, replayed ones included.' },
  replayedRecords: { name: 'replayed_records_total', help: "Input records skipped because the task's state already had them (re-delivered after a crash)." },
  steps: { name: 'steps_total', help: 'Stage steps run (each key a step wrote), timer ticks included.' },
  ticks: { name: 'ticks_total', help: 'Timer ticks run by the stages.' },
  deadLettered: { name: 'dead_letters_total', help: 'Records written to the dead-letter topic.' },
  tooLate: { name: 'events_too_late_total', help: 'Events dead-lettered for arriving behind the released point.' },
  timeAhead: { name: 'events_time_ahead_total', help: "Events dead-lettered for an event time too far past their record's timestamp." },
  duplicates: { name: 'duplicate_events_total', help: 'Repeated events dropped as they left the lateness buffer (a collector re-sent them).' },
  findingsOut: { name: 'findings_total', help: 'Finding records written.' },
  enrichedOut: { name: 'enriched_events_total', help: 'Enriched event records written.' },
  restoredTasks: { name: 'restored_tasks_total', help: 'Tasks restored from the changelog.' },
  restoredRecords: { name: 'restored_records_total', help: 'Changelog records read back by restores.' },
  restoreMs: { name: 'restore_seconds_total', help: 'Wall time spent reading changelogs back, summed over restores (changelogs read at once count once).', scale: 1 / 1000 },
};

export function createProcessorMetrics(options: ProcessorMetricsOptions): ProcessorMetrics {
  const { registry, prefix } = createServiceMetrics('processor', options);
  const runtime = createRuntimeMetrics();
  const registers = [registry];
  for (const [field, spec] of Object.entries(RUNTIME_COUNTERS) as Array<[keyof RuntimeMetrics, (typeof RUNTIME_COUNTERS)[keyof RuntimeMetrics]]>) {
    new Counter({
      name: `${prefix}${spec.name}`,
      help: spec.help,
      registers,
      collect() {
        this.reset();
        this.inc(runtime[field] * (spec.scale ?? 1));
      },
    });
  }
  registerPartitionProgressGauges({ registry, prefix }, options.progress);
  registerReadyGauge({ registry, prefix }, options.isReady, '1 while the processor consumes and no outage or failed task holds it back, else 0 (as /readyz).');
  new Gauge({
    name: `${prefix}state_entries`,
    help: 'Keyed state entries a task holds (as in its changelog), per store.',
    labelNames: ['task', 'store'],
    registers,
    collect() {
      this.reset();
      for (const t of options.tasks()) for (const s of t.stores) this.set({ task: t.task, store: s.store }, s.entries);
    },
  });
  new Gauge({
    name: `${prefix}state_bytes`,
    help: "Encoded bytes (key and value) of a task's keyed state entries, per store.",
    labelNames: ['task', 'store'],
    registers,
    collect() {
      this.reset();
      for (const t of options.tasks()) for (const s of t.stores) this.set({ task: t.task, store: s.store }, s.bytes);
    },
  });
  new Gauge({
    name: `${prefix}last_restore_seconds`,
    help: "Seconds the restore that created a task took to read its changelog.",
    labelNames: ['task'],
    registers,
    collect() {
      this.reset();
      for (const t of options.tasks()) this.set({ task: t.task }, t.restore.seconds);
    },
  });
  new Gauge({
    name: `${prefix}last_restore_records`,
    help: "Changelog records the restore that created a task read.",
    labelNames: ['task'],
    registers,
    collect() {
      this.reset();
      for (const t of options.tasks()) this.set({ task: t.task }, t.restore.records);
    },
  });
  return { registry, prefix, runtime };
}
