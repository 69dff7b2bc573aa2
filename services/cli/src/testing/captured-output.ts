import { Writable } from 'node:stream';
import type { CommandIo } from '../commands/registry';

/** Keeps what is written to it, as a terminal or not: a command's stdout or stderr in a test. */
export class CapturedOutput extends Writable {
  text = '';

  constructor(readonly isTTY = false) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Everything a command may touch, for a test: captured output, `env`, `cwd` and a signal that never fires. */
export function createTestIo(options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): { io: CommandIo; out: () => string; err: () => string } {
  const stdout = new CapturedOutput();
  const stderr = new CapturedOutput();
  return {
    io: { stdout, stderr, env: options.env ?? {}, cwd: options.cwd ?? '/', signal: new AbortController().signal },
    out: () => stdout.text,
    err: () => stderr.text,
  };
}
