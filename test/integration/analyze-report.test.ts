/**
 * `calwatch analyze --format html` in a real browser: Debian's Chromium driven by
 * playwright-core. The page renders offline with no console errors, its charts and summary
 * hold the numbers of `--format json` for the same input, and the revoke table sorts,
 * filters, pages and writes the PowerShell for the rows selected. A screenshot of each
 * section goes to test-artifacts/report/.
 */
import { access, constants, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCALE_EXPORT_TAKEN_AT, simulateFleet, writeFleet, writeScaleExport } from '@calwatch/simulator';
import { COMMANDS, type CommandIo } from '@calwatch/cli';
import { createTextSink } from '../harness/text-sink';

// What the page functions passed to the browser see (this project's lib has no DOM).
declare const window: { calwatchCharts?: { pool: number; data: (number | null)[][] }[] };
declare const document: { getElementById(id: string): { textContent: string | null } | null };

const CHROMIUM = process.env.CALWATCH_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts/report');
const SECTIONS = ['summary', 'pools', 'causes', 'findings', 'revocations', 'inputs'] as const;

interface Analysis {
  asOf: string;
  summary: {
    leakedCals: number;
    reclaimableCals: number;
    findings: number;
    licenseServers: string[];
    leakedCalsByKind: Record<string, number>;
    byProduct: { licenseServer: string; product: string | null; installed: number | null; inUse: number | null; leakedCals: number }[];
  };
  findings: { id: string; severity: string }[];
  revocations: { licenseServer: string; licenseId: number; keyPackId: number; findingId: string; notBefore: string }[];
  pools: { points: [string, number, number | null][] }[];
}

/**
 * A PowerShell 5.1 `Win32_TSLicenseKeyPack` export with one per-device pack: the pool the
 * 20 % rule is taken from (without one the cap is a single CAL).
 */
async function writeKeyPackExport(path: string, pack: { server: string; keyPackId: number; total: number; issued: number }): Promise<void> {
  const header = ['PSComputerName', 'AvailableLicenses', 'Description', 'ExpirationDate', 'IssuedLicenses', 'KeyPackId', 'KeyPackType', 'ProductType', 'ProductVersion', 'ProductVersionID', 'TotalLicenses', 'TypeAndModel'];
  const row = [pack.server, pack.total - pack.issued, 'A02-6.00-S', '20380101000000.000000-000', pack.issued, pack.keyPackId, 2, 0, 'Windows Server 2022', 6, pack.total, 'RDS Per Device CAL'];
  const csv = (values: readonly unknown[]) => values.map((v) => `"${String(v)}"`).join(',');
  await writeFile(path, `#TYPE System.Management.ManagementObject#root\\cimv2\\Win32_TSLicenseKeyPack\r\n${csv(header)}\r\n${csv(row)}\r\n`);
}

async function analyze(args: string[], cwd: string): Promise<string> {
  const stdout = createTextSink();
  const stderr = createTextSink();
  const io: CommandIo = { stdout, stderr, env: {}, cwd, signal: new AbortController().signal };
  const { command } = await COMMANDS.analyze!();
  const code = await command.run(args, io);
  expect(stderr.text(), 'analyze wrote to stderr').toBe('');
  expect(code).toBe(0);
  return stdout.text();
}

/** Opens a report; collects console errors, page errors and any request that leaves the file. */
async function open(browser: Browser, file: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!/^(file|data|blob|about):/.test(r.url())) problems.push(`network request: ${r.url()}`);
  });
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(() => Array.isArray(window.calwatchCharts));
  return { page, problems };
}

const pageInfo = (page: Page) => page.locator('#rv-page').textContent();
const columnOf = async (page: Page, index: number) =>
  page.locator(`#rv-body tr td:nth-child(${index})`).allTextContents();

describe('calwatch analyze --format html in Chromium', () => {
  let dir: string;
  let browser: Browser;
  let fleet: { json: Analysis; html: string };
  let plan: { json: Analysis; html: string };

  beforeAll(async () => {
    try {
      await access(CHROMIUM, constants.X_OK);
    } catch {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: install Debian's package (apt-get install -y chromium; .ci/run does this as root) or point CALWATCH_CHROMIUM at a Chromium binary`,
      );
    }
    dir = await mkdtemp(join(tmpdir(), 'calwatch-report-'));
    await mkdir(ARTIFACTS, { recursive: true });

    // A simulated fleet (license and key pack snapshots, events, client stores) for the
    // charts, findings and inputs; a scale export for a revoke plan of many pages.
    const sim = join(dir, 'fleet');
    await writeFleet(simulateFleet({ devices: 160, days: 90, seed: 11 }), { outDir: sim, formats: ['ps51-csv', 'winlogbeat'] });
    const inputs = [join(sim, 'ps51-csv'), join(sim, 'winlogbeat'), join(sim, 'client-stores')];
    await analyze([...inputs, '--format', 'html', '--out', 'fleet.html'], dir);
    fleet = { json: JSON.parse(await analyze([...inputs, '--format', 'json'], dir)) as Analysis, html: join(dir, 'fleet.html') };

    const exportFile = join(dir, 'issued-licenses_20260630T120000Z.csv');
    const keyPackFile = join(dir, 'keypacks_20260630T120000Z.csv');
    await writeScaleExport(exportFile, { rows: 20_000, rowsPerImage: 100, rowsPerChurner: 40 });
    await writeKeyPackExport(keyPackFile, { server: 'LS01', keyPackId: 2, total: 24_000, issued: 20_000 });
    const planArgs = [exportFile, keyPackFile, '--as-of', SCALE_EXPORT_TAKEN_AT];
    await analyze([...planArgs, '--format', 'html', '--out', 'plan.html'], dir);
    plan = { json: JSON.parse(await analyze([...planArgs, '--format', 'json'], dir)) as Analysis, html: join(dir, 'plan.html') };

    browser = await chromium.launch({ executablePath: CHROMIUM });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('renders offline with no console errors, and writes a screenshot of each section', async () => {
    const { page, problems } = await open(browser, fleet.html);
    // The top of the page as it opens (docs/images/report.png is one of these), then each section.
    await page.screenshot({ path: join(ARTIFACTS, 'page.png') });
    for (const section of SECTIONS) {
      await expect(page.locator(`#${section}`).count()).resolves.toBe(1);
      await page.locator(`#${section}`).screenshot({ path: join(ARTIFACTS, `${section}.png`) });
    }
    expect(problems).toEqual([]);
    expect(await readFile(fleet.html, 'utf8')).not.toMatch(/<(script|link)[^>]+(src|href)=["']?https?:/i);
  });

  it('charts and summary hold the numbers of the JSON output', async () => {
    const { page, problems } = await open(browser, fleet.html);
    const { json } = fleet;
    expect(json.pools.length).toBeGreaterThan(0);
    expect(json.revocations.length).toBeGreaterThan(0);

    const chartData = JSON.parse((await page.locator('#calwatch-chart-data').textContent())!) as unknown;
    expect(chartData).toEqual({ pools: json.pools, leakedCalsByKind: json.summary.leakedCalsByKind });
    // What uPlot drew from: days in seconds, CALs in use, pool size.
    const drawn = await page.evaluate(() => window.calwatchCharts);
    expect(drawn).toEqual(
      json.pools.map((pool, i) => ({
        pool: i,
        data: [pool.points.map((p) => Date.parse(p[0]) / 1000), pool.points.map((p) => p[1]), pool.points.map((p) => p[2])],
      })),
    );
    const bars = await page.locator('svg.bars g.bar').evaluateAll((gs) => gs.map((g) => [g.getAttribute('data-kind'), Number(g.getAttribute('data-value'))]));
    expect(Object.fromEntries(bars)).toEqual(json.summary.leakedCalsByKind);

    const shown = async (key: string) => page.locator(`[data-summary="${key}"]`).textContent();
    const n = (v: number) => v.toLocaleString('en-US');
    expect(await shown('leakedCals')).toBe(n(json.summary.leakedCals));
    expect(await shown('reclaimableCals')).toBe(n(json.summary.reclaimableCals));
    expect(await shown('findings')).toBe(n(json.summary.findings));
    expect(await shown('licenseServers')).toBe(n(json.summary.licenseServers.length));
    expect(await shown('installed')).toBe(n(json.summary.byProduct.reduce((s, p) => s + (p.installed ?? 0), 0)));
    expect(await shown('inUse')).toBe(n(json.summary.byProduct.reduce((s, p) => s + (p.inUse ?? 0), 0)));
    const productRows = await page.locator('#by-product tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(productRows).toEqual(
      json.summary.byProduct.map((p) => [
        p.licenseServer,
        p.product ?? 'unknown product',
        p.installed === null ? '–' : n(p.installed),
        p.inUse === null ? '–' : n(p.inUse),
        n(p.leakedCals),
        n(p.leakedCals),
      ]),
    );
    // Findings worst first, as the JSON lists them.
    const ids = await page.locator('details.finding').evaluateAll((ds) => ds.map((d) => d.getAttribute('data-finding')));
    expect(ids).toEqual(json.findings.map((f) => f.id));
    expect(problems).toEqual([]);
  });

  it('the revoke table pages, sorts, filters and writes the PowerShell for the selected rows', async () => {
    const { page, problems } = await open(browser, plan.html);
    const rows = plan.json.revocations;
    expect(rows.length).toBeGreaterThan(1_000);
    const total = rows.length.toLocaleString('en-US');
    expect(await pageInfo(page)).toBe(`rows 1–100 of ${total}`);
    await expect(page.locator('#rv-body tr').count()).resolves.toBe(100);
    // The page shows the plan in the JSON's order.
    expect(await columnOf(page, 2)).toEqual(rows.slice(0, 100).map((r) => String(r.licenseId)));
    await page.click('#rv-next');
    expect(await pageInfo(page)).toBe(`rows 101–200 of ${total}`);
    expect(await columnOf(page, 2)).toEqual(rows.slice(100, 200).map((r) => String(r.licenseId)));
    await page.selectOption('#rv-size', '500');
    expect(await pageInfo(page)).toBe(`rows 1–500 of ${total}`);
    expect(await columnOf(page, 2)).toEqual(rows.slice(0, 500).map((r) => String(r.licenseId)));
    await page.selectOption('#rv-size', '100');

    const ids = rows.map((r) => r.licenseId).sort((a, b) => a - b);
    await page.click('#rv-table th[data-col="1"]');
    expect(await pageInfo(page)).toBe(`rows 1–100 of ${total}`);
    expect(await columnOf(page, 2)).toEqual(ids.slice(0, 100).map(String));
    await page.click('#rv-table th[data-col="1"]');
    expect(await columnOf(page, 2)).toEqual(ids.slice(-100).reverse().map(String));

    // Filter on one finding: exactly its rows, still in descending license id order.
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.findingId, (counts.get(r.findingId) ?? 0) + 1);
    const [findingId, count] = [...counts].sort((a, b) => a[1] - b[1]).find(([, c]) => c > 1 && c <= 100)!;
    await page.fill('#rv-filter', findingId);
    await page.waitForFunction((text) => document.getElementById('rv-page')?.textContent === text, `rows 1–${count} of ${count} (filtered from ${total})`);
    const mine = rows.filter((r) => r.findingId === findingId).map((r) => r.licenseId).sort((a, b) => b - a);
    expect(await columnOf(page, 2)).toEqual(mine.map(String));

    await page.click('#rv-select-filtered');
    expect(await page.locator('#rv-status').textContent()).toBe(`${count} selected`);
    await page.click('#rv-copy');
    const script = await page.locator('#rv-script').inputValue();
    const revoked = [...script.matchAll(/^Revoke-Cal '([^']+)' (\d+) (\d+) /gm)].map((m) => [m[1], Number(m[2]), Number(m[3])]);
    const expected = rows.filter((r) => r.findingId === findingId);
    expect(revoked.map((r) => r[2]).sort((a, b) => Number(a) - Number(b))).toEqual(expected.map((r) => r.licenseId).sort((a, b) => a - b));
    expect(new Set(revoked.map((r) => `${r[0]}/${r[1]}`))).toEqual(new Set(expected.map((r) => `${r.licenseServer}/${r.keyPackId}`)));
    expect(script).toContain('Get-CimInstance -ComputerName $Server -ClassName Win32_TSIssuedLicense');
    expect(script).toContain('Invoke-CimMethod -MethodName Revoke');
    await page.locator('#revocations').screenshot({ path: join(ARTIFACTS, 'revocations-filtered.png') });
    expect(problems).toEqual([]);
  });
});
