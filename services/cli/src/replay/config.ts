import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { kafkaEnvShape, loadConfig, LogLevel, toKafkaConfig, type Env } from '@calwatch/runtime';

/** The environment variables `calwatch replay` reads itself (services it runs read theirs). */
export const ReplayEnvSchema = z.object({
  ...kafkaEnvShape,
  CALWATCH_COLLECTOR_TOKEN: z.string().min(1).optional().describe('Bearer token for --collector-url when --token is not given.'),
  CALWATCH_REPLAY_DIR: z.string().min(1).optional().describe('Where checkpoints and service logs of replays go (default $XDG_STATE_HOME/calwatch/replay).'),
  LOG_LEVEL: LogLevel.default('info').describe('Level of the service logs written to the log file.'),
  HOME: z.string().optional().describe('Home folder, for the default state folder.'),
  XDG_STATE_HOME: z.string().optional().describe('Base of the state folder (default ~/.local/state).'),
});
/** What `calwatch replay` and `calwatch demo` read: camelCase, grouped by concern. */
export const ReplayConfigSchema = ReplayEnvSchema.transform((e) => {
  const home = e.HOME !== undefined && e.HOME !== '' ? e.HOME : homedir();
  const stateHome = e.XDG_STATE_HOME !== undefined && e.XDG_STATE_HOME !== '' ? e.XDG_STATE_HOME : join(home, '.local', 'state');
  return {
    logLevel: e.LOG_LEVEL,
    ...toKafkaConfig(e),
    collectorToken: e.CALWATCH_COLLECTOR_TOKEN,
    /** `$XDG_STATE_HOME/calwatch` (~/.local/state when unset), like the local stack's state. */
    stateDir: join(stateHome, 'calwatch'),
    replayDir: e.CALWATCH_REPLAY_DIR ?? join(stateHome, 'calwatch', 'replay'),
  };
});
export type ReplayConfig = z.infer<typeof ReplayConfigSchema>;

/** Parses the replay's variables once; the entry point passes the environment. */
export function loadReplayConfig(env: Env): ReplayConfig {
  return loadConfig(ReplayConfigSchema, env);
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
