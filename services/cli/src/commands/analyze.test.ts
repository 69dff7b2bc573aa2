import { chmod, copyFile, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command } from './analyze';
import { snapshotTimeFromName } from './analyze-input';
import { buildIssuedLicenseRow, buildIssuedLicensesCsv } from '@calwatch/collector/testing';
import { CapturedOutput } from '../testing/captured-output';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const FIXTURES = 'test/fixtures/analyze';
const SNAP1 = `${FIXTURES}/issued-licenses_20240601T000000Z.csv`;
const SNAP2 = `${FIXTURES}/issued-licenses_20240612T000000Z.csv`;
const ALL = [SNAP1, SNAP2, `${FIXTURES}/keypacks_20240612T000000Z.csv`, `${FIXTURES}/client-stores_20240612T000000Z.jsonl`, `${FIXTURES}/licensing-events.ndjson`];

async function analyze(args: string[], options: { tty?: boolean; cwd?: string } = {}) {
  const stdout = new CapturedOutput(options.tty ?? false);
  const stderr = new CapturedOutput(false);
  const code = await command.run(args, { stdout, stderr, env: {}, cwd: options.cwd ?? ROOT, signal: new AbortController().signal });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/**
 * Root reads any file: as root, the command runs with the effective user `nobody` (65534)
 * for the call. Test files run in processes of their own, and the command has read a file
 * before, so nothing it loads lazily is left to load as `nobody`.
 */
async function analyzeUnprivileged(args: string[]) {
  if (process.getuid?.() !== 0 || process.seteuid === undefined) return analyze(args);
  await analyze([SNAP2]);
  process.seteuid(65534);
  try {
    return await analyze(args);
  } finally {
    process.seteuid(0);
  }
}

interface Report {
  asOf: string;
  summary: Record<string, unknown> & {
    files: { path: string; snapshotTime: string | null; snapshotTimeFrom: string | null; note?: string }[];
    rejected: { total: number; byCode: Record<string, { count: number; reasons: string[] }> };
  };
  findings: Record<string, unknown>[];
  revocations: Record<string, unknown>[];
}

async function json(args: string[], options: { cwd?: string } = {}): Promise<Report> {
  const result = await analyze([...args, '--format', 'json'], options);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Report;
}

describe('calwatch analyze --format json', () => {
  let report: Report;
  beforeAll(async () => {
    report = await json(ALL);
  });

  it('prints exactly asOf, summary, findings, revocations and pools, each with the documented keys in order', () => {
    expect(Object.keys(report)).toEqual(['asOf', 'summary', 'findings', 'revocations', 'pools']);
    expect(report.asOf).toBe('2024-06-12T00:00:00.000Z');
    for (const finding of report.findings) {
      expect(Object.keys(finding)).toEqual([
        'id',
        'kind',
        'status',
        'severity',
        'licenseServer',
        'productVersion',
        'hwidCount',
        'hwids',
        'computerCount',
        'computers',
        'licenseCount',
        'licenseIds',
        'leakedCals',
        'reclaimableLicenseIds',
        'revokePlan',
        'firstSeen',
        'lastSeen',
        'summary',
        'remediation',
        'timeline',
      ]);
    }
    for (const row of report.revocations) {
      expect(Object.keys(row)).toEqual(['licenseServer', 'licenseId', 'keyPackId', 'productVersion', 'findingId', 'kind', 'batch', 'notBefore', 'expiresAt']);
    }
  });

  it('lists every planned revocation once, as the findings summarise them', () => {
    const planned = report.findings.flatMap((f) => (f['revokePlan'] as { count: number }[]).map((b) => b.count)).reduce((n, c) => n + c, 0);
    expect(report.revocations).toHaveLength(planned);
    expect(report.revocations.map((r) => r['licenseId'] as number).sort((a, b) => a - b)).toEqual([101, 102, 201, 202, 203, 301, 601]);
    const churn = report.findings.find((f) => f['kind'] === 'hwid-churn')!;
    expect(report.revocations.filter((r) => r['findingId'] === churn['id']).map((r) => [r['licenseId'], r['batch']])).toEqual([
      [201, 1],
      [202, 1],
      [203, 1],
    ]);
    expect(churn).toMatchObject({ computerCount: 1, licenseCount: 4, leakedCals: 3 });
  });

  it('finds every cause in the fixture exports, worst first', () => {
    expect(report.findings.map((f) => [f.kind, f.severity, f.computers, f.leakedCals, f.reclaimableLicenseIds])).toEqual([
      ['hwid-churn', 'medium', ['VDI-01'], 3, [201, 202, 203]],
      ['pool-exhaustion', 'medium', [], 0, []],
      ['cloned-image', 'low', ['PC-CLONE1', 'PC-CLONE2'], 2, [101, 102]],
      ['rebuilt-device', 'low', ['PC-REB'], 1, [301]],
      ['corrupted-store', 'low', ['PC-CS'], 1, [601]],
      ['duplicate-name', 'info', ['PC-DUP'], 0, []],
    ]);
    const cloned = report.findings[2]!;
    expect(cloned.hwids).toEqual(['000000020c10e001000000015e6f7081d6e7f809']);
    expect(cloned.licenseIds).toEqual([101, 102, 103, 104]);
    expect(cloned.summary).toBe(
      'HWID …0c10e0010000… is presented by 2 computers (PC-CLONE1, PC-CLONE2) on LS01: 3 reissues, 2 CALs held beyond one per device',
    );
    expect(report.findings[1]!.summary).toBe(
      'Windows Server 2019 per-device CALs on LS01: 2 of 40 available; event 20 (few CALs left: 2) on 2024-06-11',
    );
  });

  it('summarises counts, records, rejections by code and files', () => {
    const { files, ...summary } = report.summary;
    expect(summary).toEqual({
      findings: 6,
      resolvedFindings: 2,
      byKind: { 'hwid-churn': 1, 'pool-exhaustion': 1, 'cloned-image': 1, 'rebuilt-device': 1, 'corrupted-store': 1, 'duplicate-name': 1 },
      bySeverity: { medium: 2, low: 3, info: 1 },
      leakedCals: 7,
      reclaimableCals: 7,
      leakedCalsByKind: { 'hwid-churn': 3, 'cloned-image': 2, 'rebuilt-device': 1, 'corrupted-store': 1 },
      licenseServers: ['LS01'],
      // Installed: key pack 3's TotalLicenses; in use: the 24 active rows of key pack 3 in the newer snapshot
      // (the temporary CAL of the built-in pack is not the pool).
      byProduct: [{ licenseServer: 'LS01', product: 'Windows Server 2019', installed: 40, inUse: 24, leakedCals: 7, reclaimableCals: 7 }],
      recordsRead: 51,
      events: 32,
      eventsAfterAsOf: 0,
      rejected: {
        total: 2,
        byCode: {
          INGEST_BAD_FIELD: {
            count: 2,
            reasons: [
              `${SNAP1}, line 23, record 21: IssueDate: expected a WMI DATETIME (yyyymmddHHMMSS.mmmmmmsUUU), an ISO 8601 instant with Z or an offset, or /Date(ms)/, found "never"`,
              `${SNAP1}, line 24, record 22: sHardwareId: expected a hardware id holding hex digits, found "n/a" (nothing left after normalisation)`,
            ],
          },
        },
      },
    });
    expect(files.map((f) => [f.path, f.snapshotTime, f.snapshotTimeFrom])).toEqual([
      [SNAP1, '2024-06-01T00:00:00.000Z', 'name'],
      [SNAP2, '2024-06-12T00:00:00.000Z', 'name'],
      [`${FIXTURES}/keypacks_20240612T000000Z.csv`, '2024-06-12T00:00:00.000Z', 'name'],
      [`${FIXTURES}/client-stores_20240612T000000Z.jsonl`, null, null],
      [`${FIXTURES}/licensing-events.ndjson`, null, null],
    ]);
  });

  it('orders snapshots by the time in their names, not by argument order', async () => {
    const reversed = await json([...ALL].reverse());
    expect(reversed.findings).toEqual(report.findings);
  });

  it('walks directories and skips, with a warning, files of unknown format found there', async () => {
    const result = await analyze([FIXTURES, '--format', 'json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`analyze: skipping ${FIXTURES}/errors/notes.txt: unknown format\n`);
    const walked = JSON.parse(result.stdout) as Report;
    expect(walked.findings).toEqual(report.findings);
    expect(walked.summary.rejected.byCode.INGEST_UNKNOWN_FORMAT?.count).toBe(1);
    expect(walked.summary.files.find((f) => f.path.endsWith('notes.txt'))?.note).toBe('unknown format: skipped');
  });

  it('warns when --as-of lies after the newest input', async () => {
    const result = await analyze([...ALL, '--format', 'json', '--as-of', '2024-09-01T00:00:00Z']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('--as-of 2024-09-01T00:00:00.000Z is after the newest input');
    expect((JSON.parse(result.stdout) as Report).asOf).toBe('2024-09-01T00:00:00.000Z');
  });

  it('evaluates at --as-of and leaves later events out', async () => {
    const early = await json([...ALL, '--as-of', '2024-06-05T00:00:00Z']);
    expect(early.asOf).toBe('2024-06-05T00:00:00.000Z');
    // CALs 104, 204 and 701, the renewal of 401, the return of 511 (expired 06-05 12:00),
    // two key pack rows, the store inventory and event 20.
    expect(early.summary.eventsAfterAsOf).toBe(9);
    // PC-REB's new HWID (06-03) is not yet confirmed as a rebuild; without the store
    // inventory (06-12), PC-CS's second HWID reads as a rebuild.
    expect(early.findings.map((f) => [f.kind, f.computers])).toEqual([
      ['hwid-churn', ['VDI-01']],
      ['rebuilt-device', ['PC-CS']],
      ['cloned-image', ['PC-CLONE1', 'PC-CLONE2']],
      ['duplicate-name', ['PC-DUP']],
    ]);
  });
});

describe('thresholds', () => {
  it('takes --set overrides: with churn needing 5 HWIDs, VDI-01 reads as a rebuild', async () => {
    const report = await json([SNAP1, SNAP2, '--set', 'churn.minHwids=5']);
    const vdi = report.findings.find((f) => (f.computers as string[]).includes('VDI-01'));
    expect(vdi).toMatchObject({ kind: 'rebuilt-device', leakedCals: 3, reclaimableLicenseIds: [201, 202, 203] });
  });

  it('takes a --config file, and --set wins over it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'calwatch-analyze-'));
    try {
      const config = join(dir, 'thresholds.json');
      await writeFile(config, JSON.stringify({ churn: { minHwids: 5 } }));
      const fromFile = await json([SNAP1, SNAP2, '--config', config]);
      expect(fromFile.findings.map((f) => f.kind)).not.toContain('hwid-churn');
      const overridden = await json([SNAP1, SNAP2, '--config', config, '--set', 'churn.minHwids=3']);
      expect(overridden.findings.map((f) => f.kind)).toContain('hwid-churn');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 3 when a finding reaches --fail-on', async () => {
    expect((await analyze([...ALL, '--fail-on', 'medium', '--format', 'json'])).code).toBe(3);
    expect((await analyze([...ALL, '--fail-on', 'high', '--format', 'json'])).code).toBe(0);
  });
});

describe('snapshot times', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'calwatch-analyze-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('falls back to the file mtime and reads gzip', async () => {
    // Names without a time stamp, given newest first: only the mtimes say which came first.
    await writeFile(join(dir, 'a.csv.gz'), gzipSync(await readFile(join(ROOT, SNAP2))));
    await writeFile(join(dir, 'b.csv.gz'), gzipSync(await readFile(join(ROOT, SNAP1))));
    await utimes(join(dir, 'a.csv.gz'), new Date('2024-06-12T00:00:00Z'), new Date('2024-06-12T00:00:00Z'));
    await utimes(join(dir, 'b.csv.gz'), new Date('2024-06-01T00:00:00Z'), new Date('2024-06-01T00:00:00Z'));
    const fromMtime = await json([join(dir, 'a.csv.gz'), join(dir, 'b.csv.gz')]);
    const fromNames = await json([SNAP1, SNAP2]);
    expect(fromMtime.findings).toEqual(fromNames.findings);
    expect(fromMtime.summary.files.map((f) => [f.snapshotTime, f.snapshotTimeFrom])).toEqual([
      ['2024-06-12T00:00:00.000Z', 'mtime'],
      ['2024-06-01T00:00:00.000Z', 'mtime'],
    ]);
  });

  it('bounds the mtime of a copied export by its data, with a warning: the findings of the original at that time', async () => {
    // A copy made today of the 2024-06-12 export: today is after the expiry of licenses it lists as issued.
    await copyFile(join(ROOT, SNAP2), join(dir, 'copy.csv'));
    const result = await analyze([join(dir, 'copy.csv'), '--format', 'json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^analyze: warning: .*copy\.csv: its mtime .* is after the earliest expiry/);
    const copy = JSON.parse(result.stdout) as Report & { summary: { files: { snapshotTimeWarning?: string }[] } };
    const [file] = copy.summary.files;
    expect(file!.snapshotTimeFrom).toBe('data');
    expect(Date.parse(file!.snapshotTime!)).toBeGreaterThanOrEqual(Date.parse('2024-06-12T00:00:00.000Z'));
    expect(Date.parse(file!.snapshotTime!)).toBeLessThan(Date.now() - 86_400_000);
    expect(file!.snapshotTimeWarning).toContain('earliest expiry');
    const original = await json([SNAP2, '--snapshot-time', file!.snapshotTime!]);
    expect(copy.findings).toEqual(original.findings);
    expect(copy.findings.length).toBeGreaterThan(0);
  });

  it('reports the smallest A/B/A ping-pong seen only after it went quiet, its cause stopped', async () => {
    // Two computers, one HWID, two reissues weeks before the export; the first CAL is still valid.
    const hwid = '0x00000002, 0x0AB0AB01, 0x00000001, 0x11111111, 0x22222222';
    const row = (licenseId: number, computer: string, issued: string) =>
      buildIssuedLicenseRow(licenseId, { hwid, computer, issueDate: issued, expirationDate: new Date(Date.parse(issued) + 59 * 86_400_000).toISOString() });
    const csv = buildIssuedLicensesCsv('LS01', [row(501, 'PC-X', '2024-04-01T09:00:00.000Z'), row(502, 'PC-Y', '2024-04-11T09:00:00.000Z'), row(503, 'PC-X', '2024-04-21T09:00:00.000Z')]);
    await writeFile(join(dir, 'ping-pong_20240515T000000Z.csv'), csv);
    const report = await json([join(dir, 'ping-pong_20240515T000000Z.csv')]);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({ kind: 'cloned-image', status: 'cause-stopped', leakedCals: 1, computers: ['PC-X', 'PC-Y'] });
  });

  it('takes --snapshot-time for a single file', async () => {
    const report = await json([SNAP1, '--snapshot-time', '2024-06-02T06:00:00Z']);
    expect(report.summary.files[0]).toMatchObject({ snapshotTime: '2024-06-02T06:00:00.000Z', snapshotTimeFrom: 'option' });
  });

  it.each([
    ['issued-licenses_20240612T093000Z.csv', '2024-06-12T09:30:00.000Z'],
    ['export-2024-06-12T09-30-00Z.csv', '2024-06-12T09:30:00.000Z'],
    ['licenses 2024-06-12 0930.json', '2024-06-12T09:30:00.000Z'],
    ['ls01-20240612.csv.gz', '2024-06-12T00:00:00.000Z'],
    ['licenses-2024-13-45.csv', undefined],
    ['licenses.csv', undefined],
  ])('reads the time stamp in %s', (name, iso) => {
    expect(snapshotTimeFromName(name)).toBe(iso);
  });
});

describe('errors and usage', () => {
  it('exits 1 with a clear message on a missing file', async () => {
    const result = await analyze([`${FIXTURES}/nope.csv`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`calwatch analyze: cannot read ${FIXTURES}/nope.csv: no such file or directory\n`);
    expect(result.stdout).toBe('');
  });

  it('exits 1 on a named file of unknown format', async () => {
    const result = await analyze([`${FIXTURES}/errors/notes.txt`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`cannot read ${FIXTURES}/errors/notes.txt: unknown format`);
  });

  it('exits 1 on a file it may not read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'calwatch-analyze-'));
    try {
      await chmod(dir, 0o755);
      const locked = join(dir, 'issued-licenses_20240612T000000Z.csv');
      await copyFile(join(ROOT, SNAP2), locked);
      await chmod(locked, 0o000);
      const result = await analyzeUnprivileged([locked]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('permission denied');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [[], 'name at least one file or directory'],
    [[SNAP1, '--format', 'xml'], '--format must be table, json, html'],
    [[SNAP1, '--as-of', 'yesterday'], '--as-of must be an ISO-8601 instant'],
    [[SNAP1, SNAP2, '--snapshot-time', '2024-06-01T00:00:00Z'], '--snapshot-time applies to a single file'],
    [[SNAP1, '--set', 'churn.minHwids=many'], 'churn.minHwids'],
    [[SNAP1, '--set', 'churn'], '--set expects key=value'],
    [[SNAP1, '--fail-on', 'severe'], '--fail-on must be one of'],
    [[SNAP1, '--colour'], "Unknown option '--colour'"],
  ])('exits 2 on bad usage %j', async (args, message) => {
    const result = await analyze(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('usage: calwatch analyze');
  });

  it('prints help', async () => {
    const result = await analyze(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('exit codes: 0 done, 1 unreadable input, 2 usage or config error, 3 findings at or above --fail-on');
  });
});

describe('table output', () => {
  it('is the default on a terminal: worst first, with the revoke plan and rejections', async () => {
    const { code, stdout } = await analyze(ALL, { tty: true });
    expect(code).toBe(0);
    expect(stdout).toContain('6 open findings (2 medium, 3 low, 1 info): 7 CALs leaked, 7 reclaimable');
    expect(stdout.indexOf('1. [MEDIUM] hwid-churn')).toBeLessThan(stdout.indexOf('6. [INFO] duplicate-name'));
    expect(stdout).toContain('   revoke:    now: 3 CALs (Windows Server 2019): 201, 202, 203\n');
    expect(stdout).toContain('INGEST_BAD_FIELD: 2');
  });

  it('reports progress on stderr when asked', async () => {
    const { stderr } = await analyze([...ALL, '--progress', '--format', 'json']);
    expect(stderr).toContain(`analyze: reading ${SNAP1} (1/5)`);
    expect(stderr).toContain('analyze: detecting over 32 events');
  });
});

describe('calwatch analyze with an event dated 2999', () => {
  it('sets it aside as ANALYZE_EVENT_TIME_AHEAD and reports the findings of the input without it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'calwatch-analyze-future-'));
    try {
      for (const file of ALL) await copyFile(join(ROOT, file), join(dir, file.split('/').at(-1)!));
      const names = ALL.map((file) => file.split('/').at(-1)!);
      const without = await json(names, { cwd: dir });
      const line = (await readFile(join(ROOT, 'test/fixtures/canonical/events.ndjson'), 'utf8')).split('\n')[0]!;
      const future = { ...(JSON.parse(line) as Record<string, unknown>), eventId: 'f'.repeat(32), eventTime: '2999-01-01T00:00:00.000Z' };
      await writeFile(join(dir, 'future.ndjson'), `${JSON.stringify(future)}\n`);
      const withFuture = await json([...names, 'future.ndjson'], { cwd: dir });
      expect(withFuture.asOf).toBe(without.asOf);
      expect(withFuture.findings).toEqual(without.findings);
      expect(withFuture.revocations).toEqual(without.revocations);
      expect(withFuture.summary.rejected.byCode['ANALYZE_EVENT_TIME_AHEAD']).toMatchObject({ count: 1 });
      expect(withFuture.summary.rejected.total).toBe(without.summary.rejected.total + 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
