// Property-based tests: whatever the bytes, parseStream ends, never throws, and accounts
// for every record it can delimit. Runs are kept small so the unit suite stays fast.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CanonicalEvent, KeyPackFact, LicenseFact } from '@calwatch/model';
import { INGEST_REJECTIONS } from './rejection-codes';
import { fixture, parseBytes } from './testing/parse-helpers';
import { INPUT_FORMATS, type InputFormat, type ParsedItem } from './types';

const RUNS = 200;

/** Every item is valid or a rejection that says where and why. */
function checkItems(items: ParsedItem[]): void {
  for (const item of items) {
    switch (item.kind) {
      case 'issued-license':
        expect(LicenseFact.safeParse(item.license).success).toBe(true);
        expect(item.licenseServer).not.toBe('');
        break;
      case 'keypack':
        expect(KeyPackFact.safeParse(item.keyPack).success).toBe(true);
        break;
      case 'event':
        expect(CanonicalEvent.safeParse(item.event).success).toBe(true);
        break;
      case 'rejected': {
        const r = item.rejection;
        expect(r.code in INGEST_REJECTIONS.table).toBe(true);
        expect(r.reason.startsWith('test')).toBe(true);
        expect(r.reason.length).toBeGreaterThan(10);
        expect(r.original.length).toBeLessThanOrEqual(1 << 22);
        break;
      }
    }
  }
}

const recordsOf = (items: ParsedItem[]) =>
  items.filter((i) => i.kind !== 'rejected' || i.rejection.record !== null).length;

const FIXTURES: Array<[string, InputFormat]> = [
  ['wmi/issued-licenses.ps51.csv', 'wmi-issued-licenses'],
  ['wmi/issued-licenses.ps51.utf16le.csv', 'wmi-issued-licenses'],
  ['wmi/issued-licenses.ps51-cim.json', 'wmi-issued-licenses'],
  ['wmi/keypacks.script.json', 'wmi-keypacks'],
  ['events/licensing.winlogbeat.ndjson', 'winlogbeat'],
  ['events/licensing.wevtutil.xml', 'evtx-xml'],
  ['events/licensing.events-root.utf16le.xml', 'evtx-xml'],
  ['canonical/events.ndjson', 'canonical'],
  ['client-store/stores.ndjson', 'client-store'],
];
const fixtureBytes = new Map(FIXTURES.map(([file]) => [file, readFileSync(fixture(file))]));

type Mutation = (bytes: Buffer) => Buffer;
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((n) => (b: Buffer) => b.subarray(0, n % (b.length + 1))),
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([n, v]) => (b: Buffer) => {
    const copy = Buffer.from(b);
    if (copy.length > 0) copy[n % copy.length] = v;
    return copy;
  }),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 4000 }), fc.constantFrom('x', '"', ',', '\n', '{', '<', '\\', 'é'))
    .map(([n, len, ch]) => (b: Buffer) => {
      const at = n % (b.length + 1);
      return Buffer.concat([b.subarray(0, at), Buffer.from(ch.repeat(len)), b.subarray(at)]);
    }),
  fc.constant((b: Buffer) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(b.toString('latin1'), 'utf16le')])),
  fc.tuple(fc.nat(), fc.nat()).map(([a, n]) => (b: Buffer) => {
    const from = a % (b.length + 1);
    return Buffer.concat([b, b.subarray(from, from + (n % 400))]);
  }),
);

describe('parseStream never throws and never hangs', { timeout: 60_000 }, () => {
  it.each([...INPUT_FORMATS, undefined])('arbitrary bytes as %s', async (format) => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 64 }), async (bytes, chunk) => {
        checkItems(await parseBytes(Buffer.from(bytes), format === undefined ? {} : { format }, chunk));
      }),
      { numRuns: RUNS },
    );
  });

  it.each(FIXTURES)('mutated %s', async (file, format) => {
    const original = fixtureBytes.get(file)!;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.integer({ min: 16, max: 512 }), fc.boolean(), async (mutations, chunk, forced) => {
        const bytes = mutations.reduce<Buffer>((b, m) => m(b), original);
        checkItems(await parseBytes(bytes, forced ? { format } : {}, chunk));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('streaming does not depend on chunk boundaries', { timeout: 60_000 }, () => {
  it.each(FIXTURES)('%s', async (file) => {
    const bytes = fixtureBytes.get(file)!;
    const whole = await parseBytes(bytes);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 97 }), async (chunk) => {
        expect(await parseBytes(bytes, {}, chunk)).toEqual(whole);
      }),
      { numRuns: 40 },
    );
  });
});

const csvQuote = (v: string | null) => (v === null ? '' : `"${v.replace(/"/g, '""')}"`);
const maybe = (valid: fc.Arbitrary<string>) => fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: fc.string({ maxLength: 30 }) });

describe('every delimited record is parsed or rejected', { timeout: 60_000 }, () => {
  const row = fc.record({
    licenseId: maybe(fc.nat({ max: 1e6 }).map(String)),
    computer: maybe(fc.stringMatching(/^[A-Z][A-Z0-9-]{0,14}$/)),
    user: fc.option(fc.string({ maxLength: 40 }), { nil: null }),
    status: maybe(fc.integer({ min: 0, max: 6 }).map(String)),
    issueDate: maybe(fc.date({ min: new Date('2000-01-01'), max: new Date('2090-01-01'), noInvalidDate: true }).map((d) => d.toISOString())),
    hwid: maybe(fc.stringMatching(/^0x[0-9A-F]{8}$/)),
  });

  it('CSV export rows, any values, any chunking (RFC 4180 round trip)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 8 }), fc.boolean(), fc.integer({ min: 1, max: 50 }), async (rows, crlf, chunk) => {
        const eol = crlf ? '\r\n' : '\n';
        const header = ['PSComputerName', 'LicenseId', 'KeyPackId', 'sIssuedToUser', 'sIssuedToComputer', 'LicenseStatus', 'IssueDate', 'sHardwareId'];
        const lines = [header.map(csvQuote).join(','), ...rows.map((r) => ['LS01', r.licenseId, '3', r.user, r.computer, r.status, r.issueDate, r.hwid].map(csvQuote).join(','))];
        const items = await parseBytes(`#TYPE x${eol}${lines.join(eol)}${eol}`, { format: 'wmi-issued-licenses' }, chunk);
        checkItems(items);
        expect(items).toHaveLength(rows.length);
        items.forEach((item, i) => {
          expect(item.kind === 'rejected' ? item.rejection.record : item.kind === 'issued-license' && item.record).toBe(i + 1);
          if (item.kind === 'issued-license') {
            expect(item.license.computer.raw).toBe(rows[i]!.computer);
            expect(item.license.user).toBe(rows[i]!.user === null || rows[i]!.user!.trim() === '' ? null : rows[i]!.user);
          }
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('JSON export arrays of arbitrary values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 8 }), fc.integer({ min: 1, max: 50 }), async (values, chunk) => {
        const items = await parseBytes(JSON.stringify(values, null, 2), { format: 'wmi-keypacks' }, chunk);
        checkItems(items);
        expect(recordsOf(items)).toBe(values.length);
        expect(items).toHaveLength(values.length);
      }),
      { numRuns: RUNS },
    );
  });

  it.each(['winlogbeat', 'canonical', 'client-store'] as const)('%s NDJSON lines', async (format) => {
    const line = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 60 }).filter((s) => !/[\r\n]/.test(s)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 8 }), fc.integer({ min: 1, max: 40 }), async (lines, chunk) => {
        const items = await parseBytes(lines.join('\n'), { format, licenseServer: 'LS01' }, chunk);
        checkItems(items);
        expect(recordsOf(items)).toBe(lines.filter((l) => l.trim() !== '').length);
      }),
      { numRuns: RUNS },
    );
  });

  it('event XML with arbitrary inserts and fields', async () => {
    const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;');
    const event = fc.record({
      provider: fc.constantFrom('TermServLicensing', 'Microsoft-Windows-TerminalServices-RemoteConnectionManager', 'Other', ''),
      id: maybe(fc.integer({ min: 0, max: 70000 }).map(String)),
      time: maybe(fc.date({ min: new Date('2000-01-01'), max: new Date('2090-01-01'), noInvalidDate: true }).map((d) => d.toISOString())),
      computer: fc.string({ maxLength: 20 }),
      inserts: fc.array(fc.string({ maxLength: 30 }), { maxLength: 5 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(event, { maxLength: 6 }), fc.boolean(), fc.integer({ min: 1, max: 80 }), async (events, rooted, chunk) => {
        const body = events
          .map((e) => `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='${escape(e.provider)}'/><EventID>${escape(e.id)}</EventID><TimeCreated SystemTime='${escape(e.time)}'/><Computer>${escape(e.computer)}</Computer></System><EventData>${e.inserts.map((v) => `<Data>${escape(v)}</Data>`).join('')}</EventData></Event>`)
          .join('\r\n');
        const xml = rooted ? `<?xml version="1.0" encoding="UTF-8"?><Events>${body}</Events>` : body;
        const items = await parseBytes(xml, { format: 'evtx-xml' }, chunk);
        checkItems(items);
        expect(items).toHaveLength(events.length);
        items.forEach((item, i) => {
          if (item.kind === 'event' && item.event.type === 'service.event') {
            expect(Object.values(item.event.event.params).slice(0, events[i]!.inserts.length)).toEqual(events[i]!.inserts);
          }
        });
      }),
      { numRuns: RUNS },
    );
  });
});

describe('hostile nesting', { timeout: 60_000 }, () => {
  it('does not expand nested entity definitions (billion laughs) or external entities', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 2, max: 12 }), async (levels, fanout) => {
        const defs = Array.from({ length: levels }, (_, i) =>
          i === 0 ? `<!ENTITY e0 "lol">` : `<!ENTITY e${i} "${`&e${i - 1};`.repeat(fanout)}">`,
        ).join('');
        const xml = `<!DOCTYPE Event [${defs}<!ENTITY x SYSTEM "file:///etc/passwd">]><Event><System><Provider Name='TermServLicensing'/><EventID>80</EventID><TimeCreated SystemTime='2024-01-01T00:00:00Z'/><Computer>LS01</Computer></System><EventData><Data>&e${levels - 1};&x;</Data></EventData></Event>`;
        const items = await parseBytes(xml, { format: 'evtx-xml' });
        checkItems(items);
        expect(items.some((i) => i.kind === 'event')).toBe(false);
        for (const item of items) if (item.kind === 'rejected') expect(item.rejection.original.length).toBeLessThanOrEqual(xml.length);
      }),
      { numRuns: 50 },
    );
  });

  it('rejects deeply nested JSON in every JSON format without recursing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 65, max: 50_000 }), fc.constantFrom<InputFormat>('wmi-issued-licenses', 'winlogbeat', 'canonical', 'client-store'), async (depth, format) => {
        const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
        const text = format === 'wmi-issued-licenses' ? `[${deep}]` : `{"winlog":${deep}}\n`;
        const items = await parseBytes(text, { format }, 4096);
        expect(items).toHaveLength(1);
        expect(items[0]).toMatchObject({ kind: 'rejected', rejection: { code: 'INGEST_JSON_TOO_DEEP' } });
      }),
      { numRuns: 20 },
    );
  });

  it('bounds a deeply nested XML event by its size, not its depth', async () => {
    const depth = 20_000;
    const xml = `<Event><System><Provider Name='TermServLicensing'/><EventID>80</EventID><TimeCreated SystemTime='2024-01-01T00:00:00Z'/><Computer>LS01</Computer></System><EventData>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</EventData></Event>`;
    const items = await parseBytes(xml, { format: 'evtx-xml' }, 8192);
    checkItems(items);
    expect(items).toHaveLength(1);
    expect(items[0]!.kind).toBe('event');
  });
});
