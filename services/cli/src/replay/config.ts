import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { kafkaEnvShape, loadConfig, type Env } from '@calwatch/runtime';

/** The environment variables `calwatch replay` reads itself (services it runs read theirs). */
export const ReplayEnvSchema = z.object({
  ...kafkaEnvShape,
  CALWATCH_COLLECTOR_TOKEN: z.string().min(1).optional().describe('Bearer token for --collector-url when --token is not given.'),
  CALWATCH_REPLAY_DIR: z.string().min(1).optional().describe('Where checkpoints and service logs of replays go (default $XDG_STATE_HOME/calwatch/replay).'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Level of the service logs written to the log file.'),
  HOME: z.string().optional().describe('Home folder, for the default state folder.'),
  XDG_STATE_HOME: z.string().optional().describe('Base of the state folder (default ~/.local/state).'),
});
export type ReplayEnv = z.infer<typeof ReplayEnvSchema>;

export function loadReplayEnv(env: Env): ReplayEnv {
  return loadConfig(ReplayEnvSchema, env);
}

/** `$XDG_STATE_HOME/calwatch/<what>` (~/.local/state when unset), like the local stack's state. */
export function stateDirOf(env: ReplayEnv, what: string): string {
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir();
  const base = env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME !== '' ? env.XDG_STATE_HOME : join(home, '.local', 'state');
  return join(base, 'calwatch', what);
}

/** A replay namespace: lower-case letters, digits and dashes, valid in topic and index names. */
export const NamespaceName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,47}$/, 'lower-case letters, digits and -, at most 48, starting with a letter or digit');

/** Where a namespace's records live: topics `calwatch.replay.<name>.`, indices `calwatch-replay-<name>-`. */
export function namespacePrefixes(name: string): { topicPrefix: string; indexPrefix: string; groupPrefix: string } {
  return { topicPrefix: `calwatch.replay.${name}.`, indexPrefix: `calwatch-replay-${name}-`, groupPrefix: `calwatch-replay-${name}` };
}

/** A file-name-safe form of a target (topic prefix or URL), for the default checkpoint name. */
export function slugOf(target: string): string {
  return target.replace(/^[a-z]+:\/*/i, '').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+|[._]+$/g, '') || 'replay';
}

const WALL_DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const WALL_UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** `500ms`, `20s`, `3m`, `1h` to milliseconds; undefined when unreadable or not positive. */
export function parseWallDuration(text: string): number | undefined {
  const match = WALL_DURATION.exec(text.trim());
  if (match === null) return undefined;
  const ms = Number(match[1]) * WALL_UNIT_MS[match[2] as keyof typeof WALL_UNIT_MS];
  return ms > 0 ? Math.round(ms) : undefined;
}
