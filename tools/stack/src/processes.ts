import { spawn } from 'node:child_process';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { readJsonFile, type Env } from '@calwatch/runtime';
import { STACK_ERRORS } from './errors';

export interface CommandResult {
  code: number;
  output: string;
}

/** Runs a short preparation command to completion, stdout and stderr merged. */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Env; input?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      // Without an env the command inherits this process's, as spawn does: short tools
      // (unzip, chmod, openssl, getent) read nothing calwatch sets.
      env: options.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 600_000,
    });
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => chunks.push(c));
    child.stderr?.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(STACK_ERRORS.create('STACK_TOOL_MISSING', `'${command}' is not installed or not on PATH`, { cause: error }));
      } else {
        reject(error);
      }
    });
    child.on('close', (code, signal) => {
      resolve({ code: code ?? (signal === null ? 1 : 128), output: Buffer.concat(chunks).toString('utf8') });
    });
    if (child.stdin !== null) {
      // A command may exit without reading its input; that is its exit code's business.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}

export async function runChecked(
  what: string,
  command: string,
  args: string[],
  options: Parameters<typeof runCommand>[2] = {},
): Promise<string> {
  const result = await runCommand(command, args, options);
  if (result.code !== 0) {
    throw STACK_ERRORS.create('STACK_COMMAND_FAILED', `${what} failed (exit ${result.code}):\n${lastLines(result.output, 30)}`, {
      context: { command, args },
    });
  }
  return result.output;
}

export function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}

/** A process the stack started, as recorded in its pid file. */
export const pidRecordSchema = z.object({
  name: z.string(),
  pid: z.number().int().positive(),
  /** detached children lead their own process group; stop signals go to the whole group. */
  pgid: z.number().int().positive(),
  /** A string that must appear in /proc/<pid>/cmdline, so a recycled pid is not mistaken for ours. */
  marker: z.string().min(1),
  startedAt: z.string(),
  /** Started in TLS mode (`stack up --tls`); records written before the mode existed are plain. */
  tls: z.boolean().optional(),
});
export type PidRecord = z.infer<typeof pidRecordSchema>;

export async function readPidRecord(file: string): Promise<PidRecord | undefined> {
  const parsed = await readJsonFile(file, pidRecordSchema);
  if (parsed === undefined) return undefined;
  if (!parsed.success) {
    throw STACK_ERRORS.create('STACK_STATE_INVALID', `pid file ${file} is unreadable; remove it after checking nothing runs`, {
      context: { file },
    });
  }
  return parsed.data;
}

export async function writePidRecord(file: string, record: PidRecord): Promise<void> {
  await writeFile(file, JSON.stringify(record, null, 2) + '\n', { mode: 0o644 });
}

export async function removePidFile(file: string): Promise<void> {
  await rm(file, { force: true });
}

/** Alive, not a zombie, and (where /proc exists) really the process we started. */
export async function isProcessAlive(pid: number, marker?: string): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name, is the state.
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    if (marker !== undefined) {
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
      return cmdline.includes(marker);
    }
  } catch {
    // No /proc (not Linux): the signal test above is all we have.
  }
  return true;
}

export async function isRecordAlive(record: PidRecord | undefined): Promise<boolean> {
  return record !== undefined && (await isProcessAlive(record.pid, record.marker));
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Starts a long-running process in its own session so it outlives the CLI, with stdout
 * and stderr appended to `logFile`. Resolves once the process has been created.
 */
export async function spawnDetached(options: {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  logFile: string;
}): Promise<{ pid: number }> {
  const log = await open(options.logFile, 'a', 0o644);
  try {
    await log.write(`\n--- ${new Date().toISOString()} starting: ${options.command} ${options.args.join(' ')}\n`);
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'ENOENT'
            ? STACK_ERRORS.create('STACK_TOOL_MISSING', `'${options.command}' is not installed`, { cause: error })
            : error,
        ),
      );
      child.once('spawn', () => resolve(child.pid!));
    });
    child.unref();
    return { pid };
  } finally {
    await log.close();
  }
}

/**
 * SIGTERM to the whole process group, SIGKILL to what is left after `graceMs`.
 * Returns how it ended.
 */
export async function stopProcessGroup(record: PidRecord, graceMs: number): Promise<'not-running' | 'terminated' | 'killed'> {
  if (!(await isRecordAlive(record)) && !groupExists(record.pgid)) return 'not-running';
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-record.pgid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  };
  signalGroup('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!groupExists(record.pgid)) return 'terminated';
    await sleep(200);
  }
  signalGroup('SIGKILL');
  const killDeadline = Date.now() + 10_000;
  while (groupExists(record.pgid) && Date.now() < killDeadline) await sleep(100);
  return 'killed';
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
