import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseStream } from './parse-stream';
import { TEST_OPTIONS, chunksOf, collectBatches, fixture } from './testing/parse-helpers';
import type { ParseOptions, ParsedBatch, ParsedItem } from './types';

const KIB = 1024;

/** A Windows PowerShell 5.1 export of `rows` distinct licenses, every 100th row with a field too many. */
function bigCsv(rows: number): string {
  const [typeLine, header, row] = readFileSync(fixture('wmi/issued-licenses.ps51.csv'), 'utf8').split('\r\n');
  const lines = [typeLine!, header!];
  for (let n = 1; n <= rows; n++) {
    const line = row!.replaceAll('LicenseId=17', `LicenseId=${n}`).replace('"3","17","2"', `"3","${n}","2"`);
    lines.push(n % 100 === 0 ? `${line},"extra"` : line);
  }
  return `${lines.join('\r\n')}\r\n`;
}

function batchesOf(input: Buffer | string, chunkSize: number | undefined, options: Partial<ParseOptions> = {}): Promise<ParsedBatch[]> {
  return collectBatches(parseStream(chunksOf(input, chunkSize), { ...TEST_OPTIONS, ...options }));
}

const flat = (batches: ParsedBatch[]): ParsedItem[] => batches.flat();
const codeOf = (item: ParsedItem | undefined) => (item?.kind === 'rejected' ? item.rejection.code : item?.kind);

describe('parseStream batches', () => {
  it('yields one non-empty batch per chunk of a CSV export; together they are the items, in order', async () => {
    const csv = bigCsv(2_000);
    expect(csv.length).toBeGreaterThan(8 * 64 * KIB);
    const whole = await batchesOf(csv, undefined);
    const chunked = await batchesOf(csv, 16 * KIB);
    // collectBatches refuses an empty batch; past the 64 KiB head, each 16 KiB chunk completes some rows.
    expect(chunked.length).toBeGreaterThan(10);
    expect(flat(chunked)).toEqual(flat(whole));
    const items = flat(chunked);
    expect(items).toHaveLength(2_000);
    expect(items.map((item) => (item.kind === 'issued-license' ? item.license.licenseId : item.kind === 'rejected' ? item.rejection.record : null))).toEqual(
      Array.from({ length: 2_000 }, (_, i) => i + 1),
    );
    expect(items.filter((item) => item.kind === 'rejected').map((item) => codeOf(item))).toEqual(Array(20).fill('INGEST_CSV_COLUMN_COUNT'));
  });

  it.each([
    ['events/licensing.winlogbeat.ndjson', 'winlogbeat'],
    ['events/licensing.wevtutil.xml', 'evtx-xml'],
    ['canonical/events.ndjson', 'canonical'],
  ] as const)('batches %s read in small chunks the same as in one', async (file, format) => {
    const text = readFileSync(fixture(file), 'utf8').repeat(40);
    const chunked = await batchesOf(text, 4 * KIB, { format });
    expect(chunked.length).toBeGreaterThan(1);
    expect(flat(chunked)).toEqual(flat(await batchesOf(text, undefined, { format })));
  });

  it('gives a rejection of the whole input a batch of its own', async () => {
    expect((await batchesOf('"Name","Handles"\r\n"explorer","1"\r\n', undefined)).map((batch) => batch.map(codeOf))).toEqual([['INGEST_UNKNOWN_FORMAT']]);

    const gzip = gzipSync(bigCsv(2_000));
    const cut = await batchesOf(gzip.subarray(0, Math.floor(gzip.length / 2)), 4 * KIB);
    expect(cut.length).toBeGreaterThan(1);
    expect(cut.at(-1)!.map(codeOf)).toEqual(['INGEST_COMPRESSION_INVALID']);
    // What was inflated before the break is read, in the batches before it.
    expect(cut.slice(0, -1).flat().filter((item) => item.kind === 'issued-license').length).toBeGreaterThan(100);
  });
});
