import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parseCanonical } from './canonical';
import { parseClientStore } from './client-store';
import { detectFormat, isGzip } from './detect';
import { parseEvtxXml } from './evtx-xml';
import { rejected } from './rejection';
import { createTextDecoder, sniffEncoding } from './text-decoding';
import { parseDate } from './wmi-values';
import type { InputFormat, ParseOptions, ParsedBatch, ParsedItem } from './types';
import { parseWinlogbeat } from './winlogbeat';
import { parseWmiCsv } from './wmi-csv';
import { parseWmiJson } from './wmi-json';

/** Bytes read before deciding encoding and format. */
const HEAD_BYTES = 64 * 1024;
/** Whitespace held while looking for an export's first character; more is not an export. */
export const MAX_LEADING_WHITESPACE_CHARS = 1 << 20;

/**
 * Parses an input of any supported format into parsed rows, events and rejections.
 * Streams: memory does not grow with the input. Never throws on bad input (only on I/O
 * errors of the source): gzip is inflated transparently, the encoding and format are
 * sniffed from the head unless `options.format` is given, and every record that cannot
 * be read becomes a `rejected` item with its location and original text.
 *
 * Yields batches (see ParsedBatch): the items each chunk of text completed, in input
 * order, never empty; a rejection of the whole input (unknown format, broken gzip) is a
 * batch of its own. Read them as `for await (const batch of …) for (const item of batch)`.
 */
export async function* parseStream(
  input: AsyncIterable<Buffer | string>,
  given: ParseOptions,
): AsyncGenerator<ParsedBatch> {
  // Events carry observedTime as a UTC instant with milliseconds; accept any ISO form.
  const observed = parseDate(given.observedTime);
  const options = observed.ok ? { ...given, observedTime: observed.value } : given;
  const bytes = inflateIfGzip(toBuffers(input));
  let failure: ParsedItem | undefined;
  const guarded = guardInflate(bytes, options.ref, (item) => {
    failure = item;
  });

  const iterator = guarded[Symbol.asyncIterator]();
  const headChunks: Buffer[] = [];
  let headSize = 0;
  let done = false;
  while (headSize < HEAD_BYTES) {
    const next = await iterator.next();
    if (next.done === true) {
      done = true;
      break;
    }
    headChunks.push(next.value);
    headSize += next.value.length;
  }
  const head = Buffer.concat(headChunks);
  if (head.length === 0) {
    if (failure !== undefined) yield [failure];
    return;
  }

  const format = options.format ?? detectFormat(head, options.ref);
  if (format === undefined) {
    for (; !done; done = (await iterator.next()).done === true);
    yield [
      rejected(
        { ref: options.ref, line: null, record: null },
        'INGEST_UNKNOWN_FORMAT',
        'the input matches no known format (WMI CSV/JSON export, Winlogbeat NDJSON, event XML, canonical or client-store NDJSON); pass the format explicitly',
        head.subarray(0, 4096),
      ),
    ];
    if (failure !== undefined) yield [failure];
    return;
  }

  const encoding = sniffEncoding(head).encoding;
  async function* rest(): AsyncGenerator<Buffer> {
    try {
      yield head;
      while (!done) {
        const next = await iterator.next();
        if (next.done === true) break;
        yield next.value;
      }
    } finally {
      // A consumer that stops early must still close the source (a file handle).
      await iterator.return?.(undefined);
    }
  }
  // Delegated once per batch, not per item: the point of batches.
  yield* parseText(decode(rest(), encoding), format, options);
  if (failure !== undefined) yield [failure];
}

function parseText(text: AsyncIterable<string>, format: InputFormat, options: ParseOptions): AsyncGenerator<ParsedBatch> {
  switch (format) {
    case 'wmi-issued-licenses':
    case 'wmi-keypacks':
      return parseWmi(text, format, options);
    case 'winlogbeat':
      return parseWinlogbeat(text, options);
    case 'evtx-xml':
      return parseEvtxXml(text, options);
    case 'canonical':
      return parseCanonical(text, options);
    case 'client-store':
      return parseClientStore(text, options);
  }
}

/** CSV or JSON: decided by the first character that is not whitespace or a BOM. */
async function* parseWmi(
  text: AsyncIterable<string>,
  wmiClass: 'wmi-issued-licenses' | 'wmi-keypacks',
  options: ParseOptions,
): AsyncGenerator<ParsedBatch> {
  const iterator = text[Symbol.asyncIterator]();
  const seen: string[] = [];
  let seenChars = 0;
  let first: string | undefined;
  while (first === undefined) {
    const next = await iterator.next();
    if (next.done === true) break;
    seen.push(next.value);
    seenChars += next.value.length;
    const trimmed = next.value.replace(/^[\s\uFEFF]+/, '');
    if (trimmed !== '') first = trimmed[0];
    else if (seenChars > MAX_LEADING_WHITESPACE_CHARS) {
      // Held whole, an all-whitespace body would cost its size in memory: stop here.
      yield [
        rejected(
          { ref: options.ref, line: null, record: null },
          'INGEST_RECORD_TOO_LARGE',
          `more than ${MAX_LEADING_WHITESPACE_CHARS} characters of whitespace before the export starts; the rest of the input was not read`,
          '',
        ),
      ];
      for (let rest = await iterator.next(); rest.done !== true; rest = await iterator.next());
      return;
    }
  }
  async function* replay(): AsyncGenerator<string> {
    try {
      yield* seen;
      for (;;) {
        const next = await iterator.next();
        if (next.done === true) return;
        yield next.value;
      }
    } finally {
      await iterator.return?.(undefined);
    }
  }
  if (first === undefined) return;
  yield* first === '{' || first === '[' ? parseWmiJson(replay(), wmiClass, options) : parseWmiCsv(replay(), wmiClass, options);
}

async function* toBuffers(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  for await (const chunk of input) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (buffer.length > 0) yield buffer;
  }
}

async function* decode(bytes: AsyncIterable<Buffer>, encoding: ReturnType<typeof sniffEncoding>['encoding']): AsyncGenerator<string> {
  const decoder = createTextDecoder(encoding);
  for await (const chunk of bytes) {
    const text = decoder.decode(chunk, { stream: true });
    if (text !== '') yield text;
  }
  const tail = decoder.decode();
  if (tail !== '') yield tail;
}

/** Marks errors of the gzip layer, which are bad input, apart from errors of the source. */
class InflateError extends Error {}

async function* inflateIfGzip(bytes: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  let source: Readable | undefined;
  try {
    const first = await bytes.next();
    if (first.done === true) return;
    if (!isGzip(first.value) && !(first.value.length === 1 && first.value[0] === 0x1f)) {
      yield first.value;
      yield* bytes;
      return;
    }
    // Re-join the first chunk with the rest and inflate as a stream.
    source = Readable.from(
      (async function* () {
        yield first.value;
        yield* bytes;
      })(),
    );
    const gunzip = createGunzip();
    let sourceError: unknown;
    source.on('error', (error) => {
      sourceError = error;
      gunzip.destroy(error);
    });
    source.pipe(gunzip);
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (error) {
      if (sourceError !== undefined) throw sourceError;
      throw new InflateError((error as Error).message);
    }
  } finally {
    // Stopping early (or failing) must still close the source, wherever reading stopped.
    source?.destroy();
    await bytes.return(undefined);
  }
}

/** Turns a gzip failure into a rejection (reported after what was read before it). */
async function* guardInflate(
  bytes: AsyncGenerator<Buffer>,
  ref: string,
  onFailure: (item: ParsedItem) => void,
): AsyncGenerator<Buffer> {
  try {
    yield* bytes;
  } catch (error) {
    if (!(error instanceof InflateError)) throw error;
    onFailure(
      rejected({ ref, line: null, record: null }, 'INGEST_COMPRESSION_INVALID', `the gzip stream is corrupt or cut short (${error.message})`, Buffer.alloc(0)),
    );
  }
}
