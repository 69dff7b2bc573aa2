// Every parser must run in time linear in its input: one request body must not be able to
// hold the event loop for seconds. Each case builds an adversarial input at growing sizes
// (up to the 4 MiB record limit of event XML) and compares how the parse time grows from
// one size to the next, 4 times larger: linear code takes about 4 times as long, a
// quadratic pattern 16 times. Sizes go up in order and the first step that grows too fast
// fails the case, so quadratic code fails in seconds instead of running for hours. The
// bounds are generous (a slow, busy machine passes); quadratic code does not.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_LEADING_WHITESPACE_CHARS, parseStream } from './parse-stream';
import { fixture, parseBytes } from './testing/parse-helpers';
import type { InputFormat } from './types';

const KIB = 1024;
const MIB = 1024 * KIB;
const SIZES = [4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, 1 * MIB];
/** The reported case goes up to the record limit (4 MiB of characters). */
const LIMIT_SIZES = [16 * KIB, 64 * KIB, 256 * KIB, 1 * MIB, 4 * MIB - 64];
/** Each step is 4x the bytes: linear is ~4x the time, quadratic ~16x. */
const MAX_STEP_GROWTH = 12;
/** Absolute ceiling at the largest size. */
const MAX_MS_PER_MIB = 2_000;
/** Below this a measurement is mostly noise; smaller times count as this much. */
const FLOOR_MS = 20;

interface Case {
  name: string;
  format: InputFormat;
  /** An input of about `bytes` bytes. */
  build(bytes: number): string;
  sizes?: number[];
}

const fill = (unit: string, bytes: number): string => unit.repeat(Math.max(1, Math.floor(bytes / unit.length)));
const header = 'PSComputerName,LicenseId,KeyPackId,sIssuedToUser,sIssuedToComputer,LicenseStatus,IssueDate,ExpirationDate,sHardwareId\r\n';
const xmlEvent = readFileSync(fixture('events/licensing.wevtutil.xml'), 'utf8').split('</Event>')[0]!.replace(/^[\s\S]*?<Event/, '<Event') + '</Event>';
const jsonLine = readFileSync(fixture('canonical/events.ndjson'), 'utf8').split('\n')[0]!;

const CASES: Case[] = [
  // Event XML
  { name: 'whitespace run inside a malformed <Event>', format: 'evtx-xml', build: (n) => `<Events><Event><System>${fill(' ', n - 64)}<a></b></System></Event></Events>`, sizes: LIMIT_SIZES },
  { name: 'whitespace run before an unclosed <Event>', format: 'evtx-xml', build: (n) => `<Events><Event>${fill(' ', n)}x<Event></Events>` },
  { name: 'whitespace between events', format: 'evtx-xml', build: (n) => `<Events>${xmlEvent}${fill(' \r\n\t', n)}${xmlEvent}</Events>` },
  { name: 'deep nesting', format: 'evtx-xml', build: (n) => `<Event>${fill('<a>', n / 2)}${fill('</a>', n / 2)}</Event>` },
  { name: 'many attributes', format: 'evtx-xml', build: (n) => `<Event><System><Provider ${Array.from({ length: Math.floor(n / 12) }, (_, i) => `a${i}="v"`).join(' ')}/></System></Event>` },
  { name: 'long text field', format: 'evtx-xml', build: (n) => `<Event><EventData><Data>${fill('x', n)}</Data></EventData></Event>` },
  { name: 'many small events', format: 'evtx-xml', build: (n) => `<Events>${fill(xmlEvent, n)}</Events>` },
  // Winlogbeat / canonical / client-store NDJSON
  { name: 'whitespace line', format: 'winlogbeat', build: (n) => `${fill(' ', n)}x\n` },
  { name: 'deep array nesting', format: 'winlogbeat', build: (n) => `${fill('[', n)}\n` },
  { name: 'long string field', format: 'winlogbeat', build: (n) => `{"winlog":{"event_id":"${fill('9', n)}"}}\n` },
  { name: 'many keys', format: 'winlogbeat', build: (n) => `{${Array.from({ length: Math.floor(n / 10) }, (_, i) => `"k${i}":1`).join(',')}}\n` },
  { name: 'backslash escapes', format: 'canonical', build: (n) => `{"eventId":"${fill('\\\\', n)}"}\n` },
  { name: 'many lines', format: 'canonical', build: (n) => fill(`${jsonLine}\n`, n) },
  { name: 'whitespace between values', format: 'client-store', build: (n) => `{"computer":${fill(' ', n)}"PC"}\n` },
  // WMI exports
  { name: 'long quoted field', format: 'wmi-issued-licenses', build: (n) => `${header}"LS01","${fill('x', n)}"\r\n` },
  { name: 'quote runs', format: 'wmi-issued-licenses', build: (n) => `${header}"${fill('""', n)}"\r\n` },
  { name: 'many columns', format: 'wmi-issued-licenses', build: (n) => `${fill('a,', n)}\r\n1\r\n` },
  { name: 'leading whitespace', format: 'wmi-issued-licenses', build: (n) => `${fill(' ', n)}${header}` },
  { name: 'trailing whitespace in fields', format: 'wmi-keypacks', build: (n) => `PSComputerName,KeyPackId\r\n"LS01${fill(' ', n)}x",1\r\n` },
  { name: 'deep JSON nesting', format: 'wmi-issued-licenses', build: (n) => `[${fill('{"a":', n / 2)}1${fill('}', n / 10)}]` },
  { name: 'JSON whitespace', format: 'wmi-keypacks', build: (n) => `[{"KeyPackId":${fill(' ', n)}1}]` },
];

/** The best of a few runs: a busy machine only ever adds time, so the minimum is the parser's own. */
async function timeParse(input: string, format: InputFormat): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let run = 0; run < (input.length < MIB ? 3 : 2); run++) {
    const started = performance.now();
    await parseBytes(input, { format }, 64 * KIB);
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

describe('parsers run in linear time', () => {
  it.each(CASES.map((c) => [`${c.format}: ${c.name}`, c] as const))(
    '%s',
    async (_name, c) => {
      const sizes = c.sizes ?? SIZES;
      const times: number[] = [];
      for (const [i, size] of sizes.entries()) {
        times.push(await timeParse(c.build(size), c.format));
        const detail = `ms at ${sizes.slice(0, i + 1).map((s) => `${Math.round(s / KIB)} KiB`).join(', ')}: ${times.map((t) => t.toFixed(1)).join(', ')}`;
        if (i > 0) expect(Math.max(times[i]!, FLOOR_MS) / Math.max(times[i - 1]!, FLOOR_MS), detail).toBeLessThan(MAX_STEP_GROWTH);
        // Small inputs are dominated by warm-up: the per-MiB bound starts at a quarter second.
        expect(times[i]!, detail).toBeLessThan(Math.max(250, (MAX_MS_PER_MIB * size) / MIB));
      }
    },
    60_000,
  );
});

describe('an all-whitespace export', () => {
  it('is refused once the leading whitespace passes the cap, not buffered to its end', async () => {
    const chunk = ' '.repeat(64 * KIB);
    let produced = 0;
    let producedAtFirstItem: number | undefined;
    async function* whitespace(): AsyncGenerator<string> {
      for (let i = 0; i < 128; i++) {
        produced += chunk.length;
        yield chunk;
      }
    }
    const items = [];
    for await (const batch of parseStream(whitespace(), { ref: 'test', observedTime: '2024-06-14T00:00:00.000Z', format: 'wmi-issued-licenses' })) {
      producedAtFirstItem ??= produced;
      for (const item of batch) items.push(item);
    }
    expect(items.map((i) => (i.kind === 'rejected' ? i.rejection.code : i.kind))).toEqual(['INGEST_RECORD_TOO_LARGE']);
    expect(producedAtFirstItem).toBeLessThanOrEqual(MAX_LEADING_WHITESPACE_CHARS + 2 * chunk.length);
    expect(produced).toBe(128 * chunk.length);
  });
});
