import { z } from 'zod';
import { SHARED_ERRORS } from '@calwatch/model';

export type Env = Readonly<Record<string, string | undefined>>;

/** Lists every problem at once, one per line, naming the variable. */
export function formatConfigIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`).join('\n');
}

/**
 * Parses configuration once from an env-like record with a zod schema whose keys are
 * the variable names. Defaults live in the schema; a config schema ends in a `.transform`
 * to the camelCase object its service reads (see docs/architecture.md); the result is
 * deeply frozen.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: Env): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw SHARED_ERRORS.create('SHARED_CONFIG_INVALID', `invalid configuration:\n${formatConfigIssues(result.error.issues)}`, {
      context: { issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  }
  return deepFreeze(result.data);
}

/** Freezes an object and everything it holds (Sets and Maps excepted). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/** Comma-separated list variable ("a, b ,c" -> ["a","b","c"]). */
export const csvList = z
  .string()
  .transform((s) => s.split(',').map((part) => part.trim()).filter((part) => part.length > 0));

/** Integer variable given as a string. */
export const intVar = (min = 0) => z.coerce.number().int().min(min);

/** Boolean variable: true/false/1/0/yes/no. */
export const boolVar = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((s) => s === 'true' || s === '1' || s === 'yes');

/** The one log-level schema: pino's levels, LOG_LEVEL in every config. */
export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
export type LogLevel = z.infer<typeof LogLevel>;

/** LOG_LEVEL as the services read it. */
export const logLevelEnvShape = {
  LOG_LEVEL: LogLevel.default('info').describe('Log level of the JSON logs on stdout.'),
};
