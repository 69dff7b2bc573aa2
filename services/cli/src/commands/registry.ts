/** A `calwatch <name>` sub-command. `run` returns the process exit code. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /**
   * Works on files alone: connection settings are not looked up for it. Looking up the local
   * stack's settings loads the stack's module (about a tenth of a second at start-up), which
   * `analyze` of an export has no use for.
   */
  offline?: boolean;
  run(args: string[], io: CommandIo): Promise<number>;
}

/** What a command may touch: injected so commands are testable without a terminal. */
export interface CommandIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM; long-running commands stop cleanly when it fires. */
  signal: AbortSignal;
}
