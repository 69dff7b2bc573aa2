import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerOf, planInputs, snapshotTimeWarnings } from './inputs';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

let dir: string;

const CSV = '#TYPE Selected.System.Management.ManagementObject\r\n"PSComputerName","LicenseId","sHardwareId","sIssuedToComputer"\r\n';
const WINLOGBEAT = '{"@timestamp":"2024-06-12T09:30:15Z","winlog":{"event_id":"20"}}\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'calwatch-inputs-'));
  await mkdir(join(dir, 'exports'));
  await writeFile(join(dir, 'exports', 'issued-licenses_20240102T000000Z.csv'), CSV);
  await writeFile(join(dir, 'exports', 'keypacks.json.gz'), gzipSync('[{"KeyPackId": 2, "TypeAndModel": "x", "TotalLicenses": 10}]'));
  await writeFile(join(dir, 'exports', 'README.txt'), 'not an export');
  await writeFile(join(dir, 'events.ndjson'), WINLOGBEAT);
  await writeFile(join(dir, 'notes.txt'), 'hello');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('planInputs', () => {
  it('walks directories, tells formats and roles apart, and skips what is not an input', async () => {
    const plan = await planInputs(['exports', 'events.ndjson'], { cwd: dir });
    const byName = Object.fromEntries(plan.inputs.map((i) => [i.display, i]));
    expect(Object.keys(byName).sort()).toEqual(['events.ndjson', 'exports/issued-licenses_20240102T000000Z.csv', 'exports/keypacks.json.gz']);
    expect(byName['exports/issued-licenses_20240102T000000Z.csv']).toMatchObject({
      format: 'wmi-issued-licenses',
      role: 'issued-snapshot',
      container: 'csv',
      snapshotTime: '2024-01-02T00:00:00.000Z',
      snapshotTimeFrom: 'name',
      gzip: false,
    });
    expect(byName['exports/keypacks.json.gz']).toMatchObject({ format: 'wmi-keypacks', role: 'keypack-snapshot', container: 'json', gzip: true });
    expect(byName['events.ndjson']).toMatchObject({ format: 'winlogbeat', role: 'events', container: 'ndjson' });
    expect(plan.skipped).toEqual([{ display: 'exports/README.txt', reason: 'unknown format' }]);
    expect(plan.totalBytes).toBe(plan.inputs.reduce((sum, i) => sum + i.size, 0));
  });

  it('expands quoted globs and skips what they match that is not an input', async () => {
    const plan = await planInputs(['*.ndjson', '*.txt'], { cwd: dir });
    expect(plan.inputs.map((i) => i.display)).toEqual([join(dir, 'events.ndjson')]);
    expect(plan.skipped.map((s) => s.reason)).toEqual(['unknown format']);
  });

  it('bounds the mtime of a copied license export by its data, with a warning', async () => {
    const fixture = await readFile(join(ROOT, 'test/fixtures/analyze/issued-licenses_20240612T000000Z.csv'));
    await writeFile(join(dir, 'copy.csv'), fixture);
    const plan = await planInputs(['copy.csv'], { cwd: dir });
    const [input] = plan.inputs;
    expect(input!.snapshotTimeFrom).toBe('data');
    expect(Date.parse(input!.snapshotTime)).toBeGreaterThanOrEqual(Date.parse('2024-06-12T00:00:00.000Z'));
    expect(Date.parse(input!.snapshotTime)).toBeLessThan(Date.parse('2024-12-31T00:00:00.000Z'));
    expect(snapshotTimeWarnings(plan)).toEqual([input!.snapshotTimeWarning]);
    expect(input!.snapshotTimeWarning).toContain('earliest expiry');
  });

  it('refuses a file named explicitly that is not an input, and an empty selection', async () => {
    await expect(planInputs(['notes.txt'], { cwd: dir })).rejects.toMatchObject({ code: 'REPLAY_UNKNOWN_FORMAT' });
    await expect(planInputs(['nothing-*.csv'], { cwd: dir })).rejects.toMatchObject({ code: 'REPLAY_NO_INPUTS' });
    await expect(planInputs(['missing.csv'], { cwd: dir })).rejects.toMatchObject({ code: 'REPLAY_INPUT_UNREADABLE' });
  });
});

describe('containerOf', () => {
  it('reads CSV or JSON from the first character, past byte-order marks and UTF-16 zeros', () => {
    expect(containerOf('wmi-issued-licenses', '"PSComputerName",...')).toBe('csv');
    expect(containerOf('wmi-issued-licenses', '\xEF\xBB\xBF[{"LicenseId": 1}]')).toBe('json');
    expect(containerOf('wmi-keypacks', '\xFF\xFE[\0{\0')).toBe('json');
    expect(containerOf('evtx-xml', '<Events>')).toBe('xml');
    expect(containerOf('client-store', '{"computer"')).toBe('ndjson');
  });
});
