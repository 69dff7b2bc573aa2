import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTestIo } from '../testing/captured-output';
import { command } from './analyze';
import { CHART_DATA_ID, REVOCATION_ROWS_ID, buildRevocationRows, renderHtml } from './analyze-html';
import type { Analysis } from './analyze-report';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const FIXTURES = 'test/fixtures/analyze';

async function analysisOfFixtures(): Promise<Analysis> {
  const { io, out } = createTestIo({ cwd: ROOT });
  const files = ['issued-licenses_20240601T000000Z.csv', 'issued-licenses_20240612T000000Z.csv', 'keypacks_20240612T000000Z.csv', 'licensing-events.ndjson'];
  expect(await command.run([...files.map((f) => `${FIXTURES}/${f}`), '--format', 'json'], io)).toBe(0);
  return JSON.parse(out()) as Analysis;
}

const scriptBlock = (html: string, id: string) => {
  const match = new RegExp(`<script type="application/json" id="${id}">(.*?)</script>`, 's').exec(html);
  expect(match, id).not.toBeNull();
  return JSON.parse(match![1]!) as unknown;
};

describe('renderHtml', () => {
  it('embeds the chart data and the revoke plan exactly, and fetches nothing', async () => {
    const analysis = await analysisOfFixtures();
    const html = renderHtml(analysis);
    expect(scriptBlock(html, CHART_DATA_ID)).toEqual({ pools: analysis.pools, leakedCalsByKind: analysis.summary.leakedCalsByKind });
    const plan = scriptBlock(html, REVOCATION_ROWS_ID) as ReturnType<typeof buildRevocationRows>;
    // The compact rows read back to the JSON's revocations.
    expect(
      plan.rows.map(([server, licenseId, keyPackId, product, finding, batch, notBefore, expiresAt]) => ({
        licenseServer: plan.servers[server!],
        licenseId,
        keyPackId,
        productVersion: plan.products[product!],
        findingId: plan.findings[finding!]![0],
        kind: plan.findings[finding!]![1],
        batch,
        notBefore: new Date(notBefore! * 1000).toISOString(),
        expiresAt: expiresAt! < 0 ? null : new Date(expiresAt! * 1000).toISOString(),
      })),
    ).toEqual(analysis.revocations);
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
  });

  it('escapes what the input names, and shows statuses and summary facts it does not know', async () => {
    const analysis = await analysisOfFixtures();
    const hostile = '</script><img src=x onerror=alert(1)>';
    const finding = { ...analysis.findings[0]!, computers: [hostile], computerCount: 1, status: 'cause-stopped' };
    const html = renderHtml({
      ...analysis,
      findings: [finding, ...analysis.findings.slice(1)],
      summary: { ...analysis.summary, snapshotWarnings: [`${hostile} is older than the previous snapshot`] },
      pools: analysis.pools.map((p) => ({ ...p, product: hostile })),
    } as Analysis);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('<span class="status">cause-stopped</span>');
    expect(html).toContain('<dt>snapshotWarnings</dt>');
    // Inside the JSON blocks the name survives as data, without closing the element.
    expect((scriptBlock(html, CHART_DATA_ID) as { pools: { product: string }[] }).pools[0]!.product).toBe(hostile);
  });

  it('--format html --out writes the page to the file and nothing to stdout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'calwatch-html-'));
    try {
      const { io, out, err } = createTestIo({ cwd: ROOT });
      const target = join(dir, 'report.html');
      expect(await command.run([FIXTURES, '--format', 'html', '--out', target], io)).toBe(0);
      expect(out()).toBe('');
      expect(err()).toContain('skipping test/fixtures/analyze/errors/notes.txt');
      const html = await readFile(target, 'utf8');
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html.trimEnd().endsWith('</html>')).toBe(true);
      const missing = join(dir, 'no-such-dir', 'report.html');
      const second = createTestIo({ cwd: ROOT });
      expect(await command.run([FIXTURES, '--format', 'html', '--out', missing], second.io)).toBe(1);
      expect(second.err()).toContain(`cannot write --out ${missing}: ENOENT`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
