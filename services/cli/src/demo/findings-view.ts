import type { Finding, Severity } from '@calwatch/model';

const SEVERITY_RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };

/** Worst first: open before resolved, then severity, leaked CALs, id. */
export function orderFindings(findings: Iterable<Finding>): Finding[] {
  return [...findings].sort(
    (a, b) =>
      (a.state === b.state ? 0 : a.state === 'open' ? -1 : 1) ||
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
      b.leakedCals - a.leakedCals ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

function who(f: Finding): string {
  const names = f.computers.length > 0 ? f.computers : f.hwids.map((h) => h.slice(0, 12));
  const count = f.computers.length > 0 ? f.computerCount : f.hwidCount;
  if (names.length === 0) return f.productVersion ?? '-';
  return count <= 2 ? names.join(', ') : `${names.slice(0, 2).join(', ')} +${count - 2}`;
}

/** The compact table: one line per finding, at most `maxRows`, and a line saying how many more. */
export function renderFindingsTable(findings: Iterable<Finding>, options: { maxRows: number; width: number }): string[] {
  const ordered = orderFindings(findings);
  const open = ordered.filter((f) => f.state === 'open').length;
  const lines = [`Findings: ${open} open, ${ordered.length - open} resolved`];
  if (ordered.length === 0) return [...lines, '  (none yet)'];
  lines.push(`  ${'severity'.padEnd(8)} ${'state'.padEnd(8)} ${'kind'.padEnd(16)} ${'leaked'.padStart(6)}  who`);
  for (const f of ordered.slice(0, options.maxRows)) {
    const line = `  ${f.severity.padEnd(8)} ${f.state.padEnd(8)} ${f.kind.padEnd(16)} ${String(f.leakedCals).padStart(6)}  ${f.licenseServer}: ${who(f)}`;
    lines.push(line.length > options.width ? `${line.slice(0, Math.max(10, options.width - 1))}…` : line);
  }
  if (ordered.length > options.maxRows) lines.push(`  ... ${ordered.length - options.maxRows} more`);
  return lines;
}

/** One plain line about a change worth telling (new finding, state or severity change), or undefined. */
export function describeChange(previous: Finding | undefined, next: Finding): string | undefined {
  const text = `${next.severity} ${next.kind} on ${next.licenseServer}: ${who(next)}, ${next.leakedCals} leaked CAL(s)`;
  if (previous === undefined) return `finding ${next.state === 'open' ? 'opened' : 'seen resolved'}: ${text}`;
  if (previous.state !== next.state) return `finding ${next.state === 'open' ? 'reopened' : 'resolved'}: ${text}`;
  if (previous.severity !== next.severity) return `finding ${previous.severity} -> ${next.severity}: ${text}`;
  return undefined;
}

export interface LiveView {
  /** A finding changed (latest revision). */
  finding(previous: Finding | undefined, next: Finding): void;
  /** A line to keep (a page received, a step done): printed above the table. */
  note(line: string): void;
  /** The status line (stream progress). */
  status(line: string): void;
  /** Stops redrawing; the last table stays on screen. */
  close(): void;
}

/**
 * Findings as they arrive: on a terminal a table redrawn in place (at most every
 * `intervalMs`), with notes scrolling above it; otherwise plain lines, one per change.
 */
export function createLiveView(
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number },
  options: { intervalMs?: number } = {},
): LiveView {
  const findings = new Map<string, Finding>();
  if (out.isTTY !== true) {
    return {
      finding(previous, next) {
        findings.set(next.id, next);
        const line = describeChange(previous, next);
        if (line !== undefined) out.write(`${line}\n`);
      },
      note: (line) => out.write(`${line}\n`),
      status: () => undefined,
      close: () => undefined,
    };
  }
  let statusLine = '';
  let drawnLines = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const erase = (): void => {
    // Back to the first line of the block, then clear to the end of the screen.
    if (drawnLines > 0) out.write(`\x1b[${drawnLines}F\x1b[J`);
    drawnLines = 0;
  };
  const draw = (): void => {
    timer = undefined;
    const width = Math.max(40, (out.columns ?? 100) - 1);
    const maxRows = Math.max(3, Math.min(15, (out.rows ?? 30) - 10));
    const lines = [statusLine.slice(0, width), ...renderFindingsTable(findings.values(), { maxRows, width })];
    erase();
    out.write(lines.join('\n') + '\n');
    drawnLines = lines.length;
  };
  const schedule = (): void => {
    if (closed || timer !== undefined) return;
    timer = setTimeout(draw, options.intervalMs ?? 250);
  };
  return {
    finding(_previous, next) {
      findings.set(next.id, next);
      schedule();
    },
    note(line) {
      erase();
      out.write(`${line}\n`);
      schedule();
    },
    status(line) {
      statusLine = line;
      schedule();
    },
    close() {
      if (closed) return;
      clearTimeout(timer);
      draw();
      closed = true;
    },
  };
}
