import { COMMANDS } from './commands/index';
import { resolveServiceEnv } from './service-env';
import type { CommandIo } from './commands/registry';

async function printHelp(io: Pick<CommandIo, 'stdout'>): Promise<void> {
  const lines = ['usage: calwatch <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(COMMANDS)) {
    const { command } = await load();
    lines.push(`  ${name.padEnd(12)} ${command.summary}`);
  }
  lines.push('', "Run 'calwatch <command> --help' for a command's options.");
  io.stdout.write(lines.join('\n') + '\n');
}

async function main(argv: string[]): Promise<number> {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    await printHelp(process);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    process.stderr.write(`calwatch: unknown command '${name}'\n`);
    await printHelp(process);
    return 2;
  }
  const { command } = await load();
  const io: CommandIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    // Connection variables the user left unset come from the running local stack.
    env: command.offline === true ? process.env : ((await resolveServiceEnv(process.env)) as NodeJS.ProcessEnv),
    cwd: process.cwd(),
    signal: controller.signal,
  };
  return command.run(rest, io);
}

/**
 * The command is done: a connection a failed client left open (a wedged producer, a
 * restarting consumer) must not keep the process alive with its work stopped, so a
 * supervisor sees the exit code. The timer is unref'd: a clean run exits before it fires.
 */
function exitWhenDone(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 5_000).unref();
}

main(process.argv.slice(2)).then(exitWhenDone, (error: unknown) => {
  process.stderr.write(`calwatch: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  exitWhenDone(1);
});
