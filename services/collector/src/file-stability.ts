/**
 * Decides when a file in the drop folder is complete: its size and mtime have stayed the
 * same across observations at least `stableMs` apart. Writers that cannot rename a
 * `.tmp` file into place are covered by this; those that can never show a partial file.
 */
export interface StabilityTracker {
  /** Records an observation; true when the file has been stable long enough. */
  observe(name: string, stat: { size: number; mtimeMs: number }, nowMs: number): boolean;
  forget(name: string): void;
  /** Drops files no longer present. */
  retain(present: ReadonlySet<string>): void;
}

export function createStabilityTracker(stableMs: number): StabilityTracker {
  const seen = new Map<string, { size: number; mtimeMs: number; since: number }>();
  return {
    observe(name, stat, nowMs) {
      const last = seen.get(name);
      if (last === undefined || last.size !== stat.size || last.mtimeMs !== stat.mtimeMs) {
        seen.set(name, { size: stat.size, mtimeMs: stat.mtimeMs, since: nowMs });
        return stableMs === 0;
      }
      return nowMs - last.since >= stableMs;
    },
    forget(name) {
      seen.delete(name);
    },
    retain(present) {
      for (const name of seen.keys()) if (!present.has(name)) seen.delete(name);
    },
  };
}

/** Files the drop folder leaves alone: hidden, still being written (`.tmp`), or its own reports. */
export function isIgnoredDropFile(name: string): boolean {
  return name.startsWith('.') || name.endsWith('.tmp') || name.endsWith('.partial') || name.endsWith('.error.json') || name.endsWith('.report.json');
}
