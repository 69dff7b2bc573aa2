import type { FindingsSummary } from '../replay/findings';
import { formatDuration } from '../replay/progress';
import { type PageTally, renderPageTally } from './page-tally';
import { renderScores, type KindScore } from './score';

export interface DemoReport {
  interrupted: boolean;
  /** False when the pipeline had not caught up when the wait ended. */
  drained: boolean;
  durationMs: number;
  devices: number;
  days: number;
  records: number;
  events: number;
  rejected: number;
  findings: FindingsSummary;
  scores: KindScore[];
  pages: PageTally;
  elasticsearch: { index: string; documents: number | null; curl: string };
  kibana: string;
  logFile: string;
}

const number = (n: number): string => n.toLocaleString('en-US');

/** The final summary of `calwatch demo`. */
export function renderDemoSummary(report: DemoReport): string {
  const f = report.findings;
  const lines: string[] = [''];
  lines.push(
    `Demo ${report.interrupted ? 'interrupted' : 'finished'} after ${formatDuration(report.durationMs)}: ${report.devices} simulated devices, ${report.days} days; ` +
      `${number(report.records)} records sent, ${number(report.events)} events published, ${number(report.rejected)} rejected.`,
  );
  if (!report.drained) lines.push('  (the pipeline had not caught up when the demo stopped: figures below may be incomplete)');
  lines.push('');
  lines.push(`Findings: ${f.open} open, ${f.resolved} resolved`);
  for (const [kind, k] of Object.entries(f.byKind).sort()) {
    lines.push(`  ${kind.padEnd(18)} ${String(k.open).padStart(4)} open ${String(k.resolved).padStart(4)} resolved ${number(k.leakedCals).padStart(6)} leaked CALs`);
  }
  lines.push(`Leaked CALs: ${number(f.leakedCals)} (sum over open findings); reclaimable: ${number(f.reclaimableCals)} distinct licenses`);
  lines.push(`Pages sent: ${renderPageTally(report.pages)} (received by the local webhook)`);
  lines.push('');
  lines.push("Detection against the simulator's truth (a finding counts when it names a device of a simulated cause of its kind):");
  for (const line of renderScores(report.scores)) lines.push(line);
  lines.push('');
  lines.push(
    `Elasticsearch: ${report.elasticsearch.documents === null ? 'findings' : `${number(report.elasticsearch.documents)} finding documents`} in ${report.elasticsearch.index}; try`,
  );
  lines.push(`  ${report.elasticsearch.curl}`);
  lines.push(`Kibana: ${report.kibana}`);
  lines.push(`Service logs: ${report.logFile}`);
  return lines.join('\n') + '\n';
}
