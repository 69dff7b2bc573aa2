import { COMMANDS } from './commands/index';
import { resolveServiceEnv } from './service-env';
import type { CommandIo } from './commands/registry';

async function printHelp(io: CommandIo): Promise<void> {
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
  const io: CommandIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    // Connection variables the user left unset come from the running local stack.
    env: (await resolveServiceEnv(process.env)) as NodeJS.ProcessEnv,
    cwd: process.cwd(),
    signal: controller.signal,
  };
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    await printHelp(io);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    io.stderr.write(`calwatch: unknown command '${name}'\n`);
    await printHelp(io);
    return 2;
  }
  const { command } = await load();
  return command.run(rest, io);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`calwatch: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
