import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isCalwatchError } from '@calwatch/model';
import type { CommandIo } from './registry';

type Parsed<T extends ParseArgsConfig> = ReturnType<typeof parseArgs<T>>;

/** A wrong invocation: the command prints it with its usage and exits with its usage code. */
export class UsageError extends Error {}

/** node:util parseArgs whose complaints (an unknown option, a missing value) are UsageErrors. */
export function parseArguments<T extends ParseArgsConfig>(config: T): Parsed<T> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * Parses a command's arguments, or returns the exit code when there is nothing to run:
 * 2 after printing the parse error and the usage, 0 after printing the usage for -h/--help.
 */
export function parseCommandArgs<T extends ParseArgsConfig & { options: { help: { type: 'boolean' } } }>(
  name: string,
  usage: string,
  io: CommandIo,
  config: T,
): Parsed<T> | number {
  let parsed: Parsed<T>;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    io.stderr.write(`calwatch ${name}: ${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help === true) {
    io.stdout.write(usage + '\n');
    return 0;
  }
  return parsed;
}

/**
 * For a command that takes no arguments but -h/--help: undefined when it is to run, else
 * the exit code, after printing the usage (0) or the unexpected arguments and the usage (2).
 */
export function checkNoArguments(name: string, usage: string, io: CommandIo, args: readonly string[]): number | undefined {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(usage + '\n');
    return 0;
  }
  if (args.length > 0) {
    io.stderr.write(`calwatch ${name}: unexpected arguments: ${args.join(' ')}\n${usage}\n`);
    return 2;
  }
  return undefined;
}

/**
 * Prints a calwatch error as `calwatch <name>: CODE: message` and returns `exitCode`;
 * anything else is a bug, not an outcome, and is rethrown.
 */
export function reportCalwatchError(name: string, io: CommandIo, error: unknown, exitCode = 1): number {
  if (isCalwatchError(error)) {
    io.stderr.write(`calwatch ${name}: ${error.code}: ${error.message}\n`);
    return exitCode;
  }
  throw error;
}
