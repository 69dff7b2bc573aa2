import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CanonicalEvent, DeadLetter, type KeyPackFact } from '@calwatch/model';
import { collectSnapshots } from './collect-snapshots';
import { toDeadLetter } from './dead-letter';
import { buildKeyPackEvents } from './keypack-events';
import { INGEST_REJECTIONS } from './rejection-codes';
import { fixture, parseBytes, rejections } from './testing/parse-helpers';
import { parseFile } from './parse-file';

describe('INGEST_REJECTIONS', () => {
  it('documents every code the ingest sources use', () => {
    const dir = fileURLToPath(new URL('.', import.meta.url));
    const used = new Set<string>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
      for (const match of readFileSync(`${dir}${file}`, 'utf8').matchAll(/'(INGEST_[A-Z_]+)'/g)) used.add(match[1]!);
    }
    used.delete('INGEST_SNAPSHOT_SERVER_MISMATCH'); // a thrown error, in INGEST_ERRORS
    expect([...used].filter((code) => !(code in INGEST_REJECTIONS.table))).toEqual([]);
    for (const spec of Object.values(INGEST_REJECTIONS.table)) expect(spec.description.length).toBeGreaterThan(20);
  });
});

describe('toDeadLetter', () => {
  it('keeps the location, reason, issues and original bytes', async () => {
    const [rejection] = rejections(await parseBytes('{"computer":"PC","hwids":[]}\n', { format: 'client-store', licenseServer: 'LS01' }));
    const letter = toDeadLetter(rejection!, '2024-06-14T00:00:00.000Z');
    expect(DeadLetter.parse(letter)).toEqual(letter);
    expect(letter.location).toEqual({ ref: 'test', line: 1, record: 1, field: 'hwids' });
    expect(Buffer.from(letter.originalBase64, 'base64').toString()).toBe('{"computer":"PC","hwids":[]}');
  });
});

describe('buildKeyPackEvents / collectSnapshots', () => {
  it('groups an export by license server and builds keypack inventory events', async () => {
    const takenAt = '2024-06-10T00:00:00.000Z';
    const source = { kind: 'wmi-keypacks' as const, ref: 'kp' };
    const collected = await collectSnapshots(parseFile(fixture('wmi/keypacks.ps51.csv'), { observedTime: takenAt }), { takenAt, source });
    expect(collected).toMatchObject({ records: 4, rejections: [], events: [], issued: [] });
    const [snap] = collected.keyPacks;
    const events = buildKeyPackEvents(snap!.licenseServer, snap!.takenAt, snap!.keyPacks, snap!.source);
    expect(events.map((e) => CanonicalEvent.parse(e).type)).toEqual(Array(4).fill('keypack.inventory'));
    expect(events.map((e) => e.eventTime)).toEqual(Array(4).fill(takenAt));
    const again = buildKeyPackEvents('LS01', takenAt, snap!.keyPacks.slice(1, 2) as KeyPackFact[], source);
    expect(again[0]!.eventId).toBe(events[1]!.eventId);
  });

  it('keeps rows of several servers apart and counts rejected rows', async () => {
    const csv = '"PSComputerName","LicenseId","KeyPackId","sIssuedToComputer","LicenseStatus","IssueDate","sHardwareId"\n' +
      '"LS01","1","3","PC-1","1","2024-04-01T00:00:00Z","0a"\n"ls02.corp","1","3","PC-1","1","2024-04-01T00:00:00Z","0b"\n"LS01","2","3","PC-2","1","never","0c"\n';
    const parsed = await parseBytes(csv);
    const collected = await collectSnapshots([parsed], { takenAt: '2024-06-10T00:00:00.000Z', source: { kind: 'wmi-issued-licenses', ref: 'x' } });
    expect(collected.issued.map((s) => [s.licenseServer, s.licenses.map((l) => l.hwid.norm)])).toEqual([
      ['LS01', ['0a']],
      ['LS02', ['0b']],
    ]);
    expect(collected.records).toBe(3);
    expect(collected.rejections).toHaveLength(1);
  });
});
