import type { Command } from './registry';

// One line per command; each module exports `command`. Loaded lazily so that
// `calwatch stack status` does not pay for the processor's imports.
export const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
};
