import type { Command } from './registry';

// One line per command; each module exports `command`. Loaded lazily so that
// `calwatch stack status` does not pay for the processor's imports.
export const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  analyze: () => import('./analyze'),
  stack: () => import('./stack'),
  setup: () => import('./setup'),
  config: () => import('./config'),
  collector: () => import('./collector'),
  processor: () => import('./processor'),
  indexer: () => import('./indexer'),
  'es-setup': () => import('./es-setup'),
  kibana: () => import('./kibana'),
  simulate: () => import('./simulate'),
  notifier: () => import('./notifier'),
  notify: () => import('./notify'),
  replay: () => import('./replay'),
  demo: () => import('./demo'),
};
