/** What the progress line shows. */
export interface ProgressState {
  bytesDone: number;
  bytesTotal: number;
  records: number;
  rejected: number;
  /** Event time of the last entry sent (ms), null before the first. */
  eventTimeMs: number | null;
  startedMs: number;
  nowMs: number;
}

const BAR_WIDTH = 24;

export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(h > 0 ? 2 : 1, '0');
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

const number = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * One line: bar, percent of bytes read, records, rate, ETA and the event time reached.
 * The ETA extrapolates the byte rate so far; it is left out until there is a rate.
 */
export function renderProgress(state: ProgressState): string {
  const fraction = state.bytesTotal > 0 ? Math.min(1, state.bytesDone / state.bytesTotal) : 0;
  const filled = Math.round(fraction * BAR_WIDTH);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
  const elapsedMs = Math.max(1, state.nowMs - state.startedMs);
  const rate = (state.records * 1000) / elapsedMs;
  const parts = [
    `${bar} ${String(Math.floor(fraction * 100)).padStart(3)}%`,
    `${number(state.records)} records${state.rejected > 0 ? ` (${number(state.rejected)} rejected)` : ''}`,
    `${number(rate)}/s`,
  ];
  if (fraction > 0 && fraction < 1 && elapsedMs >= 1000) parts.push(`ETA ${formatDuration((elapsedMs * (1 - fraction)) / fraction)}`);
  if (state.eventTimeMs !== null && Number.isFinite(state.eventTimeMs)) {
    parts.push(`at ${new Date(state.eventTimeMs).toISOString().slice(0, 16).replace('T', ' ')}Z`);
  }
  return parts.join('  ');
}

export interface ProgressBar {
  update(state: ProgressState): void;
  /** Removes the line (before other output, or at the end). */
  clear(): void;
}

/**
 * Draws the progress line in place on a terminal, at most every `intervalMs`; writes
 * nothing when the stream is not a terminal (logs stay clean).
 */
export function createProgressBar(
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
  options: { intervalMs?: number; now?: () => number } = {},
): ProgressBar {
  const interval = options.intervalMs ?? 100;
  const now = options.now ?? Date.now;
  let lastDraw = 0;
  let drawn = false;
  if (stream.isTTY !== true) return { update: () => undefined, clear: () => undefined };
  return {
    update(state) {
      const t = now();
      if (t - lastDraw < interval) return;
      lastDraw = t;
      const columns = stream.columns ?? 100;
      stream.write(`\r\x1b[2K${renderProgress(state).slice(0, Math.max(10, columns - 1))}`);
      drawn = true;
    },
    clear() {
      if (!drawn) return;
      stream.write('\r\x1b[2K');
      drawn = false;
      lastDraw = 0;
    },
  };
}
