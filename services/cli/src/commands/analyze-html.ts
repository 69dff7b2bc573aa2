import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Analysis } from './analyze-report';

/**
 * `--format html`: the analysis as one self-contained page. Everything it needs is inline
 * (uPlot for the time series, read from node_modules when rendering; the page's own script
 * and styles; the data as JSON), so the file opens offline and can be mailed or archived.
 * Summary, findings and inputs are rendered here as HTML; charts and the revoke table are
 * drawn by the page from the embedded data, the table one page of rows at a time.
 */

const require = createRequire(import.meta.url);
const asset = (path: string) => readFileSync(path, 'utf8');
const pageAsset = (name: string) => asset(fileURLToPath(new URL(name, import.meta.url)));

/** Element ids the page script and the browser test read. */
export const REPORT_DATA_ID = 'calwatch-report-data';
export const CHART_DATA_ID = 'calwatch-chart-data';
export const REVOCATION_ROWS_ID = 'calwatch-revocation-rows';

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'];
const KIND_LABELS: Record<string, string> = {
  'cloned-image': 'Cloned image (one HWID, many names)',
  'hwid-churn': 'HWID churn (VDI, deleted MSLicensing)',
  'rebuilt-device': 'Rebuilt device (new HWID, old CAL orphaned)',
  'duplicate-name': 'Duplicate name (two machines, one name)',
  'corrupted-store': 'Corrupted client store (several HWIDs)',
  'pool-exhaustion': 'Pool exhaustion',
  'leak-rate-spike': 'Leak-rate spike (a day took many times the usual CALs)',
};
const SNAPSHOT_TIME_FROM: Record<string, string> = {
  option: 'given with --snapshot-time',
  name: 'the time stamp in the file name',
  mtime: "the file's modification time (no time stamp in its name)",
};

const escapeHtml = (value: unknown) =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON inside <script>: nothing in it may close the element or start a comment. */
const scriptJson = (value: unknown) =>
  JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const inlineScript = (code: string) => code.replace(/<\/(script)/gi, '<\\/$1');

const number = (n: number | null | undefined) => (n === null || n === undefined ? '–' : n.toLocaleString('en-US'));
const kindLabel = (kind: string) => KIND_LABELS[kind] ?? kind;
const productLabel = (product: string | null) => product ?? 'unknown product';

/**
 * The revoke plan as compact rows: [server, licenseId, keyPackId, product, finding, batch,
 * notBefore s, expiresAt s | -1], with servers, products and findings as indexes into
 * dictionaries. Hundreds of thousands of rows stay a few tens of bytes each.
 */
export function buildRevocationRows(revocations: Analysis['revocations']) {
  const servers: string[] = [];
  const products: (string | null)[] = [];
  const findings: [id: string, kind: string][] = [];
  const index = <T>(list: T[], map: Map<T, number>, value: T) => {
    let i = map.get(value);
    if (i === undefined) {
      i = list.length;
      list.push(value);
      map.set(value, i);
    }
    return i;
  };
  const serverIx = new Map<string, number>();
  const productIx = new Map<string | null, number>();
  const findingIx = new Map<string, number>();
  const rows = revocations.map((r) => {
    let f = findingIx.get(r.findingId);
    if (f === undefined) {
      f = findings.length;
      findings.push([r.findingId, r.kind]);
      findingIx.set(r.findingId, f);
    }
    return [
      index(servers, serverIx, r.licenseServer),
      r.licenseId,
      r.keyPackId,
      index(products, productIx, r.productVersion),
      f,
      r.batch,
      Date.parse(r.notBefore) / 1000,
      r.expiresAt === null ? -1 : Date.parse(r.expiresAt) / 1000,
    ];
  });
  return { servers, products, findings, rows };
}

/** What the charts draw, exactly as the JSON output has it. */
export function buildChartData(analysis: Analysis) {
  return { pools: analysis.pools, leakedCalsByKind: analysis.summary.leakedCalsByKind };
}

function summarySection(analysis: Analysis): string {
  const s = analysis.summary;
  const products = s.byProduct;
  const sum = (pick: (p: (typeof products)[number]) => number | null) =>
    products.some((p) => pick(p) !== null) ? products.reduce((n, p) => n + (pick(p) ?? 0), 0) : null;
  const cards: [key: string, label: string, value: number | null][] = [
    ['licenseServers', 'License servers', s.licenseServers.length],
    ['installed', 'CALs installed', sum((p) => p.installed)],
    ['inUse', 'CALs in use', sum((p) => p.inUse)],
    ['leakedCals', 'CALs leaked', s.leakedCals],
    ['reclaimableCals', 'CALs reclaimable', s.reclaimableCals],
    ['findings', 'Open findings', s.findings],
  ];
  const severities = [...SEVERITY_ORDER, ...Object.keys(s.bySeverity).filter((k) => !SEVERITY_ORDER.includes(k))]
    .filter((k) => (s.bySeverity as Record<string, number | undefined>)[k] !== undefined)
    .map((k) => `<span class="sev sev-${escapeHtml(k)}">${number((s.bySeverity as Record<string, number>)[k])} ${escapeHtml(k)}</span>`)
    .join(' ');
  return `<section id="summary"><h2>Summary</h2>
<p class="lead">As of <b>${escapeHtml(analysis.asOf)}</b>: license servers ${s.licenseServers.map((x) => `<code>${escapeHtml(x)}</code>`).join(', ') || '–'}. ${severities}</p>
<div class="cards">${cards
    .map(([key, label, value]) => `<div class="card"><div class="value" data-summary="${key}">${number(value)}</div><div class="label">${label}</div></div>`)
    .join('')}</div>
<table class="data" id="by-product"><thead><tr><th>License server</th><th>Product</th><th class="n">Installed</th><th class="n">In use</th><th class="n">Leaked</th><th class="n">Reclaimable</th></tr></thead><tbody>
${products
  .map(
    (p) =>
      `<tr><td>${escapeHtml(p.licenseServer)}</td><td>${escapeHtml(productLabel(p.product))}</td><td class="n">${number(p.installed)}</td><td class="n">${number(p.inUse)}</td><td class="n">${number(p.leakedCals)}</td><td class="n">${number(p.reclaimableCals)}</td></tr>`,
  )
  .join('\n')}
</tbody></table></section>`;
}

function poolsSection(analysis: Analysis): string {
  const charts = analysis.pools.map((pool, i) => {
    const e = pool.exhaustion;
    const note =
      e === null
        ? pool.installed === null
          ? 'No key pack inventory for these licenses: pool size unknown.'
          : 'No exhaustion in sight: CALs in use did not grow over the rate window.'
        : e.basis === 'reached'
          ? `Pool exhausted since ${escapeHtml(e.at.slice(0, 10))}.`
          : `Projected exhaustion: <b>${escapeHtml(e.at.slice(0, 10))}</b> (net growth of ${number(e.perDay)} CALs a day continued).`;
    return `<figure class="pool"><figcaption>${escapeHtml(pool.licenseServer)} · ${escapeHtml(productLabel(pool.product))} · ${number(pool.inUse)} in use of ${number(pool.installed)}
(from the ${pool.inUseFrom === 'license-table' ? 'issued-license table' : 'key pack inventory'})</figcaption><div class="chart" data-pool="${i}"></div><p class="note" data-exhaustion="${escapeHtml(e?.at ?? '')}">${note}</p></figure>`;
  });
  return `<section id="pools"><h2>Per-device CALs in use over time</h2>
${charts.length === 0 ? '<p>No license or key pack snapshots in the input: nothing to chart.</p>' : charts.join('\n')}</section>`;
}

function causesSection(analysis: Analysis): string {
  const entries = Object.entries(analysis.summary.leakedCalsByKind as Record<string, number>).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return '<section id="causes"><h2>Leaked CALs by cause</h2><p>No leaked CALs.</p></section>';
  const max = entries.reduce((m, [, n]) => Math.max(m, n), 1);
  const rowHeight = 28;
  const labelWidth = 400;
  const barWidth = 420;
  const bars = entries
    .map(([kind, n], i) => {
      const y = i * rowHeight;
      const w = Math.max(1, Math.round((n / max) * barWidth));
      return `<g class="bar" data-kind="${escapeHtml(kind)}" data-value="${n}"><text x="${labelWidth - 8}" y="${y + 18}" text-anchor="end">${escapeHtml(kindLabel(kind))}</text><rect x="${labelWidth}" y="${y + 4}" width="${w}" height="${rowHeight - 8}" rx="3"></rect><text x="${labelWidth + w + 6}" y="${y + 18}">${number(n)}</text></g>`;
    })
    .join('');
  return `<section id="causes"><h2>Leaked CALs by cause</h2>
<svg class="bars" role="img" aria-label="Leaked CALs by cause" viewBox="0 0 ${labelWidth + barWidth + 80} ${entries.length * rowHeight}" width="${labelWidth + barWidth + 80}" height="${entries.length * rowHeight}">${bars}</svg>
<p class="note">A CAL that is in findings of two causes counts under each.</p></section>`;
}

function listOf(count: number, items: readonly string[]): string {
  if (count === 0) return '–';
  const more = count - items.length;
  return `${items.map((x) => `<code>${escapeHtml(x)}</code>`).join(' ')}${more > 0 ? ` <i>and ${number(more)} more</i>` : ''}`;
}

function findingsSection(analysis: Analysis): string {
  const items = analysis.findings.map((f, i) => {
    const extra = f as typeof f & { status?: unknown };
    const status = typeof extra.status === 'string' ? ` <span class="status">${escapeHtml(extra.status)}</span>` : '';
    const timeline = (f.timeline ?? [])
      .map((t) => `<li><time>${escapeHtml(t.at)}</time> ${escapeHtml(t.note)}</li>`)
      .join('');
    const plan = f.revokePlan
      .map((b) => `<li>${b.notBefore <= analysis.asOf ? 'now' : `from ${escapeHtml(b.notBefore.slice(0, 10))}`}: ${number(b.count)} ${b.count === 1 ? 'CAL' : 'CALs'}${b.product === null ? '' : ` (${escapeHtml(b.product)})`}</li>`)
      .join('');
    return `<details class="finding finding-${escapeHtml(f.severity)}" data-finding="${escapeHtml(f.id)}"${i < 3 ? ' open' : ''}>
<summary><span class="sev sev-${escapeHtml(f.severity)}">${escapeHtml(f.severity)}</span>${status} <b>${escapeHtml(kindLabel(f.kind))}</b> · ${escapeHtml(f.licenseServer)}${f.productVersion === null ? '' : ` · ${escapeHtml(f.productVersion)}`} · ${number(f.leakedCals)} leaked</summary>
<p>${escapeHtml(f.summary)}</p>
<dl><dt>Devices</dt><dd>${listOf(f.computerCount, f.computers)}</dd><dt>HWIDs</dt><dd>${listOf(f.hwidCount, f.hwids)}</dd>
<dt>Seen</dt><dd>${escapeHtml(f.firstSeen)} – ${escapeHtml(f.lastSeen)}</dd>
${plan === '' ? '' : `<dt>Revoke plan</dt><dd><ul>${plan}</ul></dd>`}
<dt>Remediation</dt><dd class="remediation">${escapeHtml(f.remediation)}</dd>
${timeline === '' ? '' : `<dt>Evidence</dt><dd><ol class="timeline">${timeline}</ol></dd>`}</dl></details>`;
  });
  return `<section id="findings"><h2>Findings, worst first</h2>
${items.length === 0 ? '<p>No open findings.</p>' : items.join('\n')}
${analysis.summary.resolvedFindings > 0 ? `<p class="note">${number(analysis.summary.resolvedFindings)} resolved findings not shown.</p>` : ''}</section>`;
}

function revocationsSection(analysis: Analysis): string {
  return `<section id="revocations"><h2>Revoke plan</h2>
<p>One row per CAL to revoke. <i>May revoke from</i> is when the 20 % rule allows it: a license server revokes at most 20 % of the installed CALs of a version (or one) until earlier revocations expire. ${number(analysis.revocations.length)} CALs in all.</p>
<div class="controls"><input id="rv-filter" type="search" placeholder="Filter: server, product, cause, finding, license id" aria-label="Filter the revoke plan">
<button id="rv-select-filtered" type="button">Select all shown by the filter</button><button id="rv-clear" type="button">Clear selection</button>
<button id="rv-copy" type="button">Copy PowerShell for the selected rows</button> <span id="rv-status" role="status"></span></div>
<table class="data" id="rv-table"><thead><tr><th class="sel"><input type="checkbox" id="rv-page-all" aria-label="Select this page"></th>
<th data-col="1" class="n">License id</th><th data-col="0">License server</th><th data-col="2" class="n">Key pack</th><th data-col="3">Product</th><th data-col="9">Cause</th><th data-col="4">Finding</th><th data-col="5" class="n">Batch</th><th data-col="6">May revoke from</th><th data-col="7">Expires</th></tr></thead><tbody id="rv-body"></tbody></table>
<div class="pager"><button id="rv-prev" type="button">‹ Previous</button> <span id="rv-page"></span> <button id="rv-next" type="button">Next ›</button>
<label>Rows per page <select id="rv-size"><option>100</option><option>500</option><option>2000</option></select></label></div>
<textarea id="rv-script" readonly rows="6" aria-label="PowerShell for the selected rows" placeholder="The PowerShell for the selected rows appears here."></textarea></section>`;
}

/** A year of daily exports is hundreds of files: their table starts folded. */
const FILES_SHOWN_OPEN = 30;

const KNOWN_SUMMARY_KEYS = new Set([
  'findings', 'resolvedFindings', 'byKind', 'bySeverity', 'leakedCals', 'reclaimableCals', 'leakedCalsByKind',
  'licenseServers', 'byProduct', 'recordsRead', 'events', 'eventsAfterAsOf', 'rejected', 'files',
]);

function inputsSection(analysis: Analysis): string {
  const s = analysis.summary;
  const files = s.files
    .map(
      (f) =>
        `<tr><td><code>${escapeHtml(f.path)}</code></td><td>${escapeHtml(f.kinds.join(', ') || 'nothing readable')}</td><td>${escapeHtml(f.licenseServers.join(', '))}</td><td class="n">${number(f.records)}</td><td class="n">${number(f.rejected)}</td>` +
        `<td class="date">${f.snapshotTime === null ? '–' : `${escapeHtml(f.snapshotTime)}<br><small>from ${escapeHtml(SNAPSHOT_TIME_FROM[f.snapshotTimeFrom ?? ''] ?? f.snapshotTimeFrom ?? '')}</small>`}</td><td>${escapeHtml(f.note ?? '')}</td></tr>`,
    )
    .join('\n');
  const rejected = Object.entries(s.rejected.byCode)
    .sort((a, b) => b[1].count - a[1].count)
    .map(([code, e]) => `<tr><td><code>${escapeHtml(code)}</code></td><td class="n">${number(e.count)}</td><td>${e.reasons.map((r) => escapeHtml(r)).join('<br>')}</td></tr>`)
    .join('\n');
  // Facts a newer analysis adds to the summary still show, as they are.
  const other = Object.entries(s as unknown as Record<string, unknown>)
    .filter(([key]) => !KNOWN_SUMMARY_KEYS.has(key))
    .map(([key, value]) => `<dt>${escapeHtml(key)}</dt><dd><pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre></dd>`)
    .join('');
  return `<section id="inputs"><h2>What was read</h2>
<p>${number(s.files.length)} files, ${number(s.recordsRead)} records (${number(s.rejected.total)} rejected), ${number(s.events)} events applied${s.eventsAfterAsOf > 0 ? `, ${number(s.eventsAfterAsOf)} after the as-of time not used` : ''}.
Successive exports of a license server are snapshots, diffed in snapshot-time order.</p>
<details class="files"${s.files.length <= FILES_SHOWN_OPEN ? ' open' : ''}><summary>${number(s.files.length)} ${s.files.length === 1 ? 'file' : 'files'}</summary>
<table class="data" id="files"><thead><tr><th>File</th><th>Held</th><th>License servers</th><th class="n">Records</th><th class="n">Rejected</th><th>Snapshot time</th><th>Note</th></tr></thead><tbody>
${files}</tbody></table></details>
<h3>Rejected records by reason</h3>
${rejected === '' ? '<p>None.</p>' : `<table class="data" id="rejected"><thead><tr><th>Code</th><th class="n">Records</th><th>Examples</th></tr></thead><tbody>${rejected}</tbody></table>`}
${other === '' ? '' : `<h3>More</h3><dl class="other">${other}</dl>`}</section>`;
}

/** The whole page for one analysis. */
export function renderHtml(analysis: Analysis): string {
  const uplotJs = asset(require.resolve('uplot/dist/uPlot.iife.min.js'));
  const uplotCss = asset(require.resolve('uplot/dist/uPlot.min.css'));
  const pageCss = pageAsset('./analyze-html-page.css');
  const pageJs = pageAsset('./analyze-html-page.js');
  // The page script needs the plan's rows, the chart data and the as-of time; the rest is already HTML.
  const pageData = { asOf: analysis.asOf };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="calwatch analyze">
<title>calwatch analyze · ${escapeHtml(analysis.asOf)}</title>
<style>${uplotCss}</style><style>${pageCss}</style></head>
<body><header><h1>CAL leakage report</h1><nav><a href="#summary">Summary</a><a href="#pools">CALs in use</a><a href="#causes">Causes</a><a href="#findings">Findings</a><a href="#revocations">Revoke plan</a><a href="#inputs">What was read</a></nav></header>
<main>
${summarySection(analysis)}
${poolsSection(analysis)}
${causesSection(analysis)}
${findingsSection(analysis)}
${revocationsSection(analysis)}
${inputsSection(analysis)}
</main>
<script type="application/json" id="${REPORT_DATA_ID}">${scriptJson(pageData)}</script>
<script type="application/json" id="${CHART_DATA_ID}">${scriptJson(buildChartData(analysis))}</script>
<script type="application/json" id="${REVOCATION_ROWS_ID}">${scriptJson(buildRevocationRows(analysis.revocations))}</script>
<script>${inlineScript(uplotJs)}</script>
<script>${inlineScript(pageJs)}</script>
</body></html>
`;
}
