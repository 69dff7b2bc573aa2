import type { Rejection } from '@calwatch/ingest';
import type { Finding, FindingKind, PlannedRevocation, Severity } from '@calwatch/model';
import { productKeyOf } from '@calwatch/processor/core';
import type { BuiltEvents, FileReport } from './analyze-input';
import type { PoolSeries } from './analyze-pools';

const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
const REASON_EXAMPLES = 3;

export interface RunFacts {
  asOf: string;
  reports: readonly FileReport[];
  built: BuiltEvents;
  /** Every finding the pipeline knows (open and resolved). */
  findings: readonly Finding[];
  /** The complete revoke plan: one entry per planned license (a finding only summarises it). */
  revocations: readonly PlannedRevocation[];
  eventsApplied: number;
  eventsAfterAsOf: number;
  /** Events set aside for a time far past the newest input time (ANALYZE_EVENT_TIME_AHEAD). */
  timeAhead: { count: number; examples: string[] };
  /** Per-device CALs in use over time, per license server and product. */
  pools: readonly PoolSeries[];
}

/** One license server's product: its pool at the as-of time and what leaks from it. */
export interface ProductSummary {
  licenseServer: string;
  /** As the key packs name it (null: unknown key pack). */
  product: string | null;
  installed: number | null;
  inUse: number | null;
  leakedCals: number;
  reclaimableCals: number;
}

export interface Summary {
  findings: number;
  resolvedFindings: number;
  byKind: Partial<Record<FindingKind, number>>;
  bySeverity: Partial<Record<Severity, number>>;
  leakedCals: number;
  reclaimableCals: number;
  /** Leaked CALs of open findings by cause (a CAL in findings of two causes counts under each). */
  leakedCalsByKind: Partial<Record<FindingKind, number>>;
  /** License servers with a license table, a key pack inventory or an open finding (not the session hosts of events). */
  licenseServers: string[];
  byProduct: ProductSummary[];
  recordsRead: number;
  events: number;
  eventsAfterAsOf: number;
  rejected: { total: number; byCode: Record<string, { count: number; reasons: string[] }> };
  files: {
    path: string;
    kinds: string[];
    licenseServers: string[];
    records: number;
    rejected: number;
    /** Only for files that held export rows (a snapshot); null for event files. */
    snapshotTime: string | null;
    snapshotTimeFrom: string | null;
    /** Why the snapshot time is not the file's mtime: it fell outside what the export proves. */
    snapshotTimeWarning?: string;
    note?: string;
  }[];
}

const isSnapshot = (r: FileReport) => r.issued.length > 0 || r.keyPacks.length > 0;

export function openFindings(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.state === 'open');
}

/** Rejection reasons name their file and line already; others get them added. */
function where(r: Rejection): string {
  if (r.reason.startsWith(r.ref)) return r.reason;
  const at = r.line !== null ? `line ${r.line}` : r.record !== null ? `record ${r.record}` : null;
  return `${r.ref}${at === null ? '' : `, ${at}`}: ${r.reason}`;
}

export function buildSummary(facts: RunFacts): Summary {
  const open = openFindings(facts.findings);
  const byKind: Summary['byKind'] = {};
  const bySeverity: Summary['bySeverity'] = {};
  for (const f of open) {
    byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
    bySeverity[f.severity] = (bySeverity[f.severity] ?? 0) + 1;
  }
  const leakedCalsByKind: Summary['leakedCalsByKind'] = {};
  for (const f of open) if (f.leakedCals > 0) leakedCalsByKind[f.kind] = (leakedCalsByKind[f.kind] ?? 0) + f.leakedCals;
  const leaked = countLeaked(open);
  // Codes in order of first appearance, examples from the first files that had them.
  const byCode: Summary['rejected']['byCode'] = {};
  let rejectedTotal = 0;
  for (const report of facts.reports) {
    rejectedTotal += report.rejected.total;
    for (const [code, { count, examples }] of report.rejected.byCode) {
      const entry = (byCode[code] ??= { count: 0, reasons: [] });
      entry.count += count;
      for (const r of examples) if (entry.reasons.length < REASON_EXAMPLES) entry.reasons.push(where(r));
    }
  }
  if (facts.timeAhead.count > 0) {
    rejectedTotal += facts.timeAhead.count;
    byCode['ANALYZE_EVENT_TIME_AHEAD'] = { count: facts.timeAhead.count, reasons: facts.timeAhead.examples.slice(0, REASON_EXAMPLES) };
  }
  const notes = new Map<string, string[]>();
  const note = (file: string, text: string) => notes.set(file, [...(notes.get(file) ?? []), text]);
  for (const s of facts.built.stale) note(s.file, `snapshot of ${s.licenseServer} at ${s.takenAt} is not newer than an earlier one: not diffed`);
  for (const s of facts.built.incomplete) {
    note(s.file, `${s.rejected} rejected rows: licenses on them may read as returned`);
  }
  for (const r of facts.reports) if (r.unknownFormat) note(r.file.display, 'unknown format: skipped');
  return {
    findings: open.length,
    resolvedFindings: facts.findings.length - open.length,
    byKind,
    bySeverity,
    leakedCals: leaked,
    reclaimableCals: leaked,
    leakedCalsByKind,
    licenseServers: [...new Set([...facts.pools.map((p) => p.licenseServer), ...open.map((f) => f.licenseServer)])].sort(),
    byProduct: summariseProducts(facts.pools, open),
    recordsRead: facts.reports.reduce((n, r) => n + r.records, 0),
    events: facts.eventsApplied,
    eventsAfterAsOf: facts.eventsAfterAsOf,
    rejected: { total: rejectedTotal, byCode },
    files: facts.reports.map((r) => ({
      path: r.file.display,
      kinds: r.kinds,
      licenseServers: r.licenseServers,
      records: r.records,
      rejected: r.rejected.total,
      snapshotTime: isSnapshot(r) ? r.file.snapshotTime : null,
      snapshotTimeFrom: isSnapshot(r) ? r.file.snapshotTimeFrom : null,
      ...(r.file.snapshotTimeWarning === undefined ? {} : { snapshotTimeWarning: r.file.snapshotTimeWarning }),
      ...(notes.has(r.file.display) ? { note: notes.get(r.file.display)!.join('; ') } : {}),
    })),
  };
}

/**
 * A CAL can be in two findings (a clone whose name was also rebuilt): count it once. A
 * finding's list is complete up to the published bound; beyond it only its count is known.
 */
function countLeaked(findings: readonly Finding[]): number {
  const reclaimable = new Set<string>();
  let beyondLists = 0;
  for (const f of findings) {
    if (f.reclaimableLicenseIds.length < f.leakedCals) beyondLists += f.leakedCals;
    else for (const id of f.reclaimableLicenseIds) reclaimable.add(`${f.licenseServer}|${id}`);
  }
  return reclaimable.size + beyondLists;
}

/** Pools and leak findings joined on license server and product (as productKeyOf reduces it). */
function summariseProducts(pools: readonly PoolSeries[], open: readonly Finding[]): ProductSummary[] {
  const rows = new Map<string, ProductSummary & { findings: Finding[] }>();
  const row = (licenseServer: string, product: string | null) => {
    const key = `${licenseServer}|${product === null ? '' : productKeyOf(product)}`;
    let entry = rows.get(key);
    if (entry === undefined) {
      entry = { licenseServer, product, installed: null, inUse: null, leakedCals: 0, reclaimableCals: 0, findings: [] };
      rows.set(key, entry);
    }
    return entry;
  };
  for (const pool of pools) {
    const entry = row(pool.licenseServer, pool.product);
    entry.installed = pool.installed;
    entry.inUse = pool.inUse;
  }
  for (const f of open) if (f.leakedCals > 0) row(f.licenseServer, f.productVersion).findings.push(f);
  return [...rows.values()].map(({ findings, ...entry }) => {
    const leaked = countLeaked(findings);
    return { ...entry, leakedCals: leaked, reclaimableCals: leaked };
  });
}

/** Plan order: license server, then when each CAL may be revoked, then license id. */
export function sortRevocations(revocations: readonly PlannedRevocation[]): PlannedRevocation[] {
  return [...revocations].sort(
    (a, b) =>
      (a.licenseServer < b.licenseServer ? -1 : a.licenseServer > b.licenseServer ? 1 : 0) ||
      (a.notBefore < b.notBefore ? -1 : a.notBefore > b.notBefore ? 1 : 0) ||
      a.licenseId - b.licenseId,
  );
}

/**
 * The `--format json` document: exactly these keys, in this order. Findings carry counts and
 * bounded lists as published; `revocations` is the whole plan, one row per license; `pools`
 * the CALs in use per day and product.
 */
export function buildAnalysis(facts: RunFacts) {
  const findings = openFindings(facts.findings).map((f) => ({
    id: f.id,
    kind: f.kind,
    status: f.status ?? 'active',
    severity: f.severity,
    licenseServer: f.licenseServer,
    productVersion: f.productVersion,
    hwidCount: f.hwidCount,
    hwids: f.hwids,
    computerCount: f.computerCount,
    computers: f.computers,
    licenseCount: f.licenseCount,
    licenseIds: f.licenseIds,
    leakedCals: f.leakedCals,
    reclaimableLicenseIds: f.reclaimableLicenseIds,
    revokePlan: f.revokePlan,
    firstSeen: f.firstSeen,
    lastSeen: f.lastSeen,
    summary: f.summary,
    remediation: f.remediation,
    timeline: f.timeline,
  }));
  const revocations = sortRevocations(facts.revocations).map((r) => ({
    licenseServer: r.licenseServer,
    licenseId: r.licenseId,
    keyPackId: r.keyPackId,
    productVersion: r.productVersion,
    findingId: r.findingId,
    kind: r.kind,
    batch: r.batch,
    notBefore: r.notBefore,
    expiresAt: r.expiresAt,
  }));
  return { asOf: facts.asOf, summary: buildSummary(facts), findings, revocations, pools: facts.pools };
}

/** What every renderer shows: the `--format json` document. */
export type Analysis = ReturnType<typeof buildAnalysis>;

export function renderJson(facts: RunFacts): string {
  return `${JSON.stringify(buildAnalysis(facts), null, 2)}\n`;
}

const number = (n: number) => n.toLocaleString('en-US');

/** A readable report, worst finding first, with each leak's revoke plan. */
export function renderTable(facts: RunFacts): string {
  const summary = buildSummary(facts);
  const open = openFindings(facts.findings);
  const out: string[] = [];
  out.push(`calwatch analyze: as of ${facts.asOf}`);
  out.push(
    `Read ${summary.files.length} ${summary.files.length === 1 ? 'file' : 'files'}, ${number(summary.recordsRead)} records ` +
      `(${number(summary.rejected.total)} rejected), ${number(summary.events)} events` +
      (summary.eventsAfterAsOf > 0 ? ` (${number(summary.eventsAfterAsOf)} after the as-of time, not used)` : ''),
  );
  out.push('');
  const severities = SEVERITIES.filter((s) => summary.bySeverity[s] !== undefined).map((s) => `${summary.bySeverity[s]} ${s}`);
  out.push(
    open.length === 0
      ? 'No open findings.'
      : `${open.length} open ${open.length === 1 ? 'finding' : 'findings'} (${severities.join(', ')}): ` +
          `${number(summary.leakedCals)} CALs leaked, ${number(summary.reclaimableCals)} reclaimable`,
  );
  open.forEach((f, i) => {
    out.push('');
    const who = [f.licenseServer, f.productVersion ?? undefined].filter((x) => x !== undefined).join(', ');
    out.push(`${i + 1}. [${f.severity.toUpperCase()}] ${f.kind} (${who})`);
    out.push(`   ${f.summary}`);
    if (f.computerCount > 0) out.push(`   computers: ${counted(f.computerCount, f.computers)}`);
    if (f.hwidCount > 0) out.push(`   HWIDs:     ${counted(f.hwidCount, f.hwids)}`);
    if (f.licenseCount > 0) out.push(`   licenses:  ${number(f.licenseCount)} (${number(f.leakedCals)} leaked, reclaimable)`);
    const next = f.revokePlan[0];
    if (next !== undefined) {
      const planned = f.revokePlan.reduce((n, b) => n + b.count, 0);
      const when = next.notBefore <= facts.asOf ? 'now' : `from ${next.notBefore.slice(0, 10)}`;
      out.push(
        `   revoke:    ${when}: ${number(next.count)} ${next.count === 1 ? 'CAL' : 'CALs'}${next.product === null ? '' : ` (${next.product})`}: ` +
          counted(next.count, next.licenseIds.map(String)),
      );
      if (f.revokePlan.length > 1) {
        out.push(`              then ${f.revokePlan.length - 1} more ${f.revokePlan.length === 2 ? 'batch' : 'batches'}; ${number(planned)} CALs planned in all (--format json lists each)`);
      }
    }
    out.push(`   seen:      ${f.firstSeen} .. ${f.lastSeen}`);
    out.push(`   fix:       ${f.remediation}`);
  });
  if (summary.resolvedFindings > 0) out.push('', `${summary.resolvedFindings} resolved findings not shown.`);
  if (summary.rejected.total > 0) {
    out.push('', `Rejected records (${number(summary.rejected.total)}):`);
    for (const [code, entry] of Object.entries(summary.rejected.byCode).sort((a, b) => b[1].count - a[1].count)) {
      out.push(`  ${code}: ${number(entry.count)}`);
      for (const reason of entry.reasons) out.push(`    e.g. ${reason}`);
    }
  }
  out.push('', 'Files:');
  for (const file of summary.files) {
    out.push(
      `  ${file.path}: ${file.kinds.join(', ') || 'nothing readable'}; ${number(file.records)} ${file.records === 1 ? 'record' : 'records'}, ` +
        `${number(file.rejected)} rejected` +
        (file.snapshotTime === null ? '' : `; snapshot time ${file.snapshotTime} (from ${file.snapshotTimeFrom})`) +
        (file.note === undefined ? '' : `; ${file.note}`) +
        (file.snapshotTimeWarning === undefined ? '' : `\n    warning: ${file.snapshotTimeWarning}`),
    );
  }
  return `${out.join('\n')}\n`;
}

/** A few of a bounded list, then how many more the count says there are. */
function counted(count: number, items: readonly string[], max = 10): string {
  const shown = items.slice(0, max);
  const more = count - shown.length;
  if (shown.length === 0) return '';
  return more <= 0 ? shown.join(', ') : `${shown.join(', ')} and ${number(more)} more`;
}
