import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CanonicalEvent } from '@calwatch/model';
import { parseMix } from './config';
import { simulateFleet } from './simulate';
import { GroundTruth } from './truth';
import { OUTPUT_FORMATS, fileStamp, writeFleet } from './write-fleet';

const settings = {
  devices: 60,
  days: 21,
  seed: 8,
  pool: 45,
  mix: parseMix('cloned=1x3,vdi=2,deleter=1/3,rebuild=1,duplicate=1x2,corrupted=1/3'),
};

const root = await mkdtemp(join(tmpdir(), 'calwatch-sim-'));
afterAll(() => rm(root, { recursive: true, force: true }));

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(join(dir, entry.name), rel)));
    else out.push(rel);
  }
  return out.sort();
}

async function readAll(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const rel of await listFiles(dir)) files.set(rel, await readFile(join(dir, rel)));
  return files;
}

describe('writeFleet', () => {
  it('writes byte-identical output for the same seed, in every format', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    await writeFleet(simulateFleet(settings), { outDir: a, formats: OUTPUT_FORMATS });
    await writeFleet(simulateFleet(settings), { outDir: b, formats: OUTPUT_FORMATS });
    const first = await readAll(a);
    const second = await readAll(b);
    expect([...first.keys()]).toEqual([...second.keys()]);
    for (const [name, bytes] of first) expect(bytes.equals(second.get(name)!), name).toBe(true);

    const c = join(root, 'c');
    await writeFleet(simulateFleet({ ...settings, seed: 9 }), { outDir: c, formats: ['ps51-csv'] });
    const other = await readFile(join(c, 'truth.json'));
    expect(other.equals(first.get('truth.json')!)).toBe(false);
  });

  it('gzips deterministically', async () => {
    const runs = ['gz1', 'gz2'].map((d) => join(root, d));
    for (const dir of runs) await writeFleet(simulateFleet(settings), { outDir: dir, formats: ['ps51-csv', 'winlogbeat'], gzip: true });
    const [one, two] = await Promise.all(runs.map(readAll));
    for (const [name, bytes] of one!) expect(bytes.equals(two!.get(name)!), name).toBe(true);
    const plain = await readFile(join(root, 'a', 'winlogbeat', 'licensing-events.ndjson'));
    expect(gunzipSync(one!.get(join('winlogbeat', 'licensing-events.ndjson.gz'))!).equals(plain)).toBe(true);
  });

  it('writes one export per snapshot, events and stores that match the in-memory run', async () => {
    const dir = join(root, 'a');
    const simulation = simulateFleet(settings);
    const snapshots = [...simulation.snapshots()];
    const truth = GroundTruth.parse(JSON.parse(await readFile(join(dir, 'truth.json'), 'utf8')));
    expect(truth).toEqual(simulation.truth());

    for (const snapshot of snapshots) {
      const stamp = fileStamp(snapshot.takenAt);
      const csv = (await readFile(join(dir, 'ps51-csv', `issued-licenses_${stamp}.csv`), 'latin1')).split('\r\n');
      expect(csv[0]).toBe('#TYPE System.Management.ManagementObject#root\\cimv2\\Win32_TSIssuedLicense');
      expect(csv.length - 3).toBe(snapshot.licenses.length);
      const ps7 = (await readFile(join(dir, 'ps7-csv', `keypacks_${stamp}.csv`), 'utf8')).split('\r\n');
      expect(ps7.length - 2).toBe(snapshot.keyPacks.length);
      const utf16 = await readFile(join(dir, 'json', `issued-licenses_${stamp}.json`));
      expect([...utf16.subarray(0, 2)]).toEqual([0xff, 0xfe]);
      const rows = JSON.parse(utf16.subarray(2).toString('utf16le'));
      expect((Array.isArray(rows) ? rows : [rows]).map((r: { LicenseId: number }) => r.LicenseId)).toEqual(
        snapshot.licenses.map((l) => l.licenseId),
      );
      const stores = (await readFile(join(dir, 'client-stores', `client-stores_${stamp}.jsonl`), 'utf8')).trim().split('\n');
      expect(stores.map((line) => JSON.parse(line))).toEqual(
        snapshot.clientStores.map((s) => ({
          computer: s.computer.raw,
          hwids: s.hwids.map((h) => h.raw),
          observedTime: snapshot.takenAt,
          licenseServer: 'LS01',
        })),
      );
    }

    const serviceEvents = [...simulation.events()].filter((e) => e.type === 'service.event');
    expect(serviceEvents.length).toBeGreaterThan(0);
    const beats = (await readFile(join(dir, 'winlogbeat', 'licensing-events.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(beats.map((b) => [b.winlog.event_id, b.winlog.computer_name, b.winlog.record_id])).toEqual(
      serviceEvents.map((e) => e.type === 'service.event' && [String(e.event.code), e.event.host, Number(e.event.recordId)]),
    );
    const xml = (await readFile(join(dir, 'evtx-xml', 'licensing-events.xml'), 'utf8')).trim().split('\r\n');
    expect(xml).toHaveLength(serviceEvents.length);
    for (const line of xml) expect(line).toMatch(/^<Event xmlns="http:\/\/schemas\.microsoft\.com\/win\/2004\/08\/events\/event">.*<\/Event>$/);

    const canonical = (await readFile(join(dir, 'canonical', 'events.ndjson'), 'utf8')).trim().split('\n');
    expect(canonical.map((line) => CanonicalEvent.parse(JSON.parse(line)).eventId)).toEqual([...simulation.events()].map((e) => e.eventId));
  });

  it('refuses a directory that already holds files', async () => {
    const dir = join(root, 'used');
    await mkdir(dir);
    await writeFile(join(dir, 'old.csv'), 'x');
    await expect(writeFleet(simulateFleet(settings), { outDir: dir, formats: ['ps51-csv'] })).rejects.toMatchObject({
      code: 'SIMULATOR_OUTPUT_NOT_EMPTY',
    });
  });

  it('stops between snapshots when aborted, keeping what it wrote', async () => {
    const controller = new AbortController();
    const dir = join(root, 'aborted');
    const result = await writeFleet(simulateFleet(settings), {
      outDir: dir,
      formats: ['ps51-csv', 'winlogbeat'],
      signal: controller.signal,
      onSnapshot: (_, n) => {
        if (n === 3) controller.abort();
      },
    });
    expect(result).toMatchObject({ aborted: true, snapshots: 3, truth: undefined });
    expect((await readdir(join(dir, 'ps51-csv'))).filter((f) => f.startsWith('issued-licenses_'))).toHaveLength(3);
    expect(await listFiles(dir)).not.toContain('truth.json');
  });
});
