import { createServiceMetrics, type ServiceMetricsOptions } from '@calwatch/runtime';
import { Counter, Gauge, type Registry } from 'prom-client';

/** The notifier's Prometheus metrics, in a registry of its own (no global default registry). */
export interface NotifierMetrics {
  registry: Registry;
  /** `calwatch_notifier_`. */
  prefix: string;
  inputRecords: Counter<'input'>;
  decisions: Counter<'rule' | 'decision'>;
  deliveries: Counter<'target' | 'action' | 'outcome'>;
  deliveryRetries: Counter<'target' | 'code'>;
  deliveryFailures: Counter<'target' | 'code'>;
  deadLetters: Counter<'code'>;
  stateRestoreErrors: Counter<string>;
  openAlerts: Gauge<'rule'>;
  queueDepth: Gauge<'target'>;
}

export function createNotifierMetrics(options: ServiceMetricsOptions = {}): NotifierMetrics {
  const { registry, prefix } = createServiceMetrics('notifier', options);
  const metrics: NotifierMetrics = {
    registry,
    prefix,
    inputRecords: new Counter({
      name: `${prefix}input_records_total`,
      help: 'Input records applied, by input (findings, enriched); records the persisted state already reflects are skipped, not counted.',
      labelNames: ['input'],
      registers: [registry],
    }),
    decisions: new Counter({
      name: `${prefix}decisions_total`,
      help: 'Alert decisions by rule and kind (trigger, update, resolve, suppressed).',
      labelNames: ['rule', 'decision'],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: `${prefix}deliveries_total`,
      help: 'Notifications per target and action, by outcome (delivered, failed).',
      labelNames: ['target', 'action', 'outcome'],
      registers: [registry],
    }),
    deliveryRetries: new Counter({
      name: `${prefix}delivery_retries_total`,
      help: 'Retried delivery attempts per target and error code.',
      labelNames: ['target', 'code'],
      registers: [registry],
    }),
    deliveryFailures: new Counter({
      name: `${prefix}delivery_failures_total`,
      help: 'Notifications given up on (dead-lettered) per target and last error code.',
      labelNames: ['target', 'code'],
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: `${prefix}dead_letters_total`,
      help: 'Records written to the dead-letter topic, by code.',
      labelNames: ['code'],
      registers: [registry],
    }),
    stateRestoreErrors: new Counter({
      name: `${prefix}state_restore_errors_total`,
      help: 'Alert-state records that could not be decoded at restore.',
      registers: [registry],
    }),
    openAlerts: new Gauge({
      name: `${prefix}open_alerts`,
      help: 'Open alerts by rule.',
      labelNames: ['rule'],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: `${prefix}delivery_queue_depth`,
      help: 'Notifications waiting per target.',
      labelNames: ['target'],
      registers: [registry],
    }),
  };
  return metrics;
}
