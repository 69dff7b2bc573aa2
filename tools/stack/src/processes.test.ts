import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { waitFor } from '../../../test/harness/wait-for';
import { isProcessAlive, readPidRecord, runChecked, runCommand, spawnDetached, stopProcessGroup, writePidRecord, type PidRecord } from './processes';

describe('detached processes', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'calwatch-proc-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const logOf = (marker: string) => join(dir, `${marker}.log`);
  /** Waits until the script has printed `line` on a line of its own (the log's header quotes the script): it runs, with its traps set. */
  const printed = (marker: string, line: string) =>
    waitFor(async () => (await readFile(logOf(marker), 'utf8').catch(() => '')).includes(`\n${line}\n`), 5_000, `${marker} to print ${line}`, { intervalMs: 20 });

  async function start(script: string, marker: string): Promise<PidRecord> {
    const { pid } = await spawnDetached({ command: 'bash', args: ['-c', script, marker], env: process.env, cwd: dir, logFile: logOf(marker) });
    return { name: 'test', pid, pgid: pid, marker, startedAt: new Date().toISOString() };
  }

  it('runs in its own process group, recognised by its marker, and stops on SIGTERM', async () => {
    const record = await start('echo started; sleep 30 & wait', 'marker-term');
    await printed('marker-term', 'started');
    expect(await isProcessAlive(record.pid, 'marker-term')).toBe(true);
    expect(await isProcessAlive(record.pid, 'someone-else')).toBe(false);
    expect(await stopProcessGroup(record, 5_000)).toBe('terminated');
    expect(await isProcessAlive(record.pid)).toBe(false);
    expect(await readFile(logOf('marker-term'), 'utf8')).toContain('started');
  });

  it('kills a group that ignores SIGTERM once the grace period is over', async () => {
    const record = await start("trap '' TERM; echo trapped; sleep 30 & wait; sleep 30", 'marker-kill');
    await printed('marker-kill', 'trapped');
    expect(await stopProcessGroup(record, 300)).toBe('killed');
    expect(await isProcessAlive(record.pid)).toBe(false);
  });

  it('reports a process that is already gone', async () => {
    const record = await start('exit 0', 'marker-gone');
    await waitFor(async () => !(await isProcessAlive(record.pid)), 5_000, 'the script to exit', { intervalMs: 20 });
    expect(await stopProcessGroup(record, 1_000)).toBe('not-running');
  });

  it('round-trips pid files and rejects unreadable ones', async () => {
    const file = join(dir, 'x.pid');
    const record: PidRecord = { name: 'kafka', pid: 42, pgid: 42, marker: 'm', startedAt: 'now' };
    await writePidRecord(file, record);
    expect(await readPidRecord(file)).toEqual(record);
    expect(await readPidRecord(join(dir, 'missing.pid'))).toBeUndefined();
    await writeFile(file, 'garbage');
    await expect(readPidRecord(file)).rejects.toSatisfy((e: unknown) => isCalwatchError(e, 'STACK_STATE_INVALID'));
  });
});

describe('runCommand', () => {
  it('merges output, feeds input and reports the exit code', async () => {
    expect(await runCommand('bash', ['-c', 'read a; echo "got $a"; echo err >&2; exit 3'], { input: 'x\n' })).toEqual({
      code: 3,
      output: expect.stringMatching(/got x[\s\S]*err/),
    });
  });

  it('names a missing program and a failing step', async () => {
    await expect(runCommand('calwatch-no-such-tool', [])).rejects.toSatisfy((e: unknown) => isCalwatchError(e, 'STACK_TOOL_MISSING'));
    await expect(runChecked('the step', 'bash', ['-c', 'echo why; exit 1'])).rejects.toThrow(/the step failed \(exit 1\):\nwhy/);
  });
});
