import type { FindingsSummary } from './findings';
import { type InputPlan, snapshotTimeWarnings } from './inputs';
import { formatDuration } from './progress';
import type { ReplayRunResult } from './replay-run';

export interface ReplayReport {
  plan: InputPlan;
  result: ReplayRunResult;
  target: string;
  checkpointPath?: string;
  logFile?: string;
  /** With --process: the namespace's findings once drained. */
  findings?: FindingsSummary;
  drained?: boolean;
  /** With --process: every dead letter of the namespace's topic by code (processor and indexer refusals included). */
  deadLetters?: Record<string, number>;
  /** Allowed lateness the in-process processor ran with, and why. */
  latenessNote?: string;
}

const number = (n: number): string => n.toLocaleString('en-US');
const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());

/** The end-of-replay summary for a terminal or a log (plain text). */
export function renderReplaySummary(report: ReplayReport): string {
  const { plan, result } = report;
  const t = result.totals;
  const lines: string[] = [];
  const state = result.interrupted ? 'interrupted' : result.nothingLeft ? 'nothing left to send' : 'done';
  lines.push(`calwatch replay: ${state} in ${formatDuration(result.durationMs)} -> ${report.target}`);
  const snapshots = plan.inputs.filter((i) => i.role !== 'events').length;
  lines.push(
    `  inputs:    ${plan.inputs.length} files (${snapshots} snapshot exports, ${plan.inputs.length - snapshots} event files)` +
      (plan.skipped.length > 0 ? `; skipped ${plan.skipped.length}: ${plan.skipped.slice(0, 3).map((s) => `${s.display} (${s.reason})`).join(', ')}${plan.skipped.length > 3 ? ', ...' : ''}` : ''),
  );
  for (const warning of snapshotTimeWarnings(plan)) lines.push(`  warning:   ${warning}`);
  if (result.resumed !== null) {
    lines.push(`  resumed:   run ${result.resumed.runs + 1}; ${result.resumed.inputsDone} inputs and ${number(result.resumed.recordsBefore)} records were done before`);
  }
  lines.push(`  records:   ${number(t.records)} read, ${number(t.accepted)} accepted, ${number(t.rejected)} rejected${result.resumed !== null ? ` (this run: ${number(result.run.records)} read)` : ''}`);
  lines.push(`  events:    ${number(t.events)} published; ${number(t.snapshots)} snapshots sent${t.staleSnapshots > 0 ? ` (${t.staleSnapshots} stale: not newer than the last, nothing emitted)` : ''}`);
  lines.push(`  time span: ${iso(result.firstEventTimeMs)} .. ${iso(result.lastEventTimeMs)}`);
  const codes = Object.entries(t.rejectedByCode).sort((a, b) => b[1].count - a[1].count);
  if (codes.length > 0) {
    lines.push('  rejected by code (all are in the dead-letter topic):');
    for (const [code, { count, example }] of codes) lines.push(`    ${code.padEnd(30)} ${number(count).padStart(8)}  e.g. ${example.slice(0, 140)}`);
  }
  if (report.latenessNote !== undefined) lines.push(`  processor: ${report.latenessNote}`);
  if (report.deadLetters !== undefined) {
    const entries = Object.entries(report.deadLetters);
    const total = entries.reduce((sum, [, count]) => sum + count, 0);
    lines.push(`  dead letters in the topic: ${number(total)}${total > 0 ? ' by code:' : ''}`);
    for (const [code, count] of entries) lines.push(`    ${code.padEnd(30)} ${number(count).padStart(8)}`);
  }
  if (report.findings !== undefined) {
    const f = report.findings;
    lines.push(
      `  findings:  ${f.open} open, ${f.resolved} resolved; ${number(f.leakedCals)} leaked CALs, ${number(f.reclaimableCals)} reclaimable` +
        (report.drained === false ? ' (NOT drained: the pipeline had not caught up when the wait ended)' : ''),
    );
    for (const [kind, k] of Object.entries(f.byKind).sort()) {
      lines.push(`    ${kind.padEnd(18)} ${String(k.open).padStart(5)} open ${String(k.resolved).padStart(5)} resolved ${number(k.leakedCals).padStart(7)} leaked`);
    }
  }
  if (report.checkpointPath !== undefined) {
    lines.push(`  checkpoint: ${report.checkpointPath}${result.interrupted ? ' (continue with --resume)' : ''}`);
  }
  if (report.logFile !== undefined) lines.push(`  service logs: ${report.logFile}`);
  return lines.join('\n') + '\n';
}
