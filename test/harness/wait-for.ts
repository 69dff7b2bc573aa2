import type { ChildProcess } from 'node:child_process';
/**
 * The one condition wait of the tests: polls `probe` until it gives a value (anything but
 * undefined, null or false) and returns it, or fails after `timeoutMs` naming `what` (and
 * the last error, when probes that may fail meanwhile are tolerated). Tests wait for what
 * they need, never for a fixed time.
 */
export interface WaitOptions {
  /** Between two probes; default 50 ms. */
  intervalMs?: number;
  /** A probe that throws is tried again (e.g. an index that does not exist yet) instead of failing the wait. */
  tolerateErrors?: boolean;
}

export async function waitFor<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number,
  what: string,
  options: WaitOptions = {},
): Promise<T> {
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      if (options.tolerateErrors !== true) throw error;
      lastError = error;
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError === undefined ? '' : ` (last error: ${String(lastError)})`}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

/**
 * Waits until a child process serves (`isUp`), failing at once if it exits instead; either
 * failure carries the tail of its log. For the throw-away brokers and nodes tests start.
 */
export async function waitForProcessUp(
  child: ChildProcess,
  isUp: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  logTail: () => Promise<string>,
  intervalMs = 500,
): Promise<void> {
  try {
    await waitFor(
      async () => {
        if (await isUp().catch(() => false)) return true;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited with ${child.exitCode ?? child.signalCode}`);
        return false;
      },
      timeoutMs,
      `${what} to be up`,
      { intervalMs },
    );
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}:\n${await logTail()}`, { cause: error });
  }
}
