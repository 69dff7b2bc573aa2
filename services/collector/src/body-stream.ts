import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { isCalwatchError } from '@calwatch/model';
import { COLLECTOR_ERRORS } from './errors';

export interface BodyLimits {
  /** Bytes as sent (compressed when gzip). */
  maxBytes: number;
  /** Bytes after decompression. */
  maxDecompressedBytes: number;
}

export interface BodyStream {
  /** The decoded bytes, streamed; throws coded errors (too large, bad gzip, aborted). */
  chunks: AsyncIterable<Buffer>;
  /** Bytes received so far, as sent. */
  receivedBytes(): number;
  /** Bytes after decoding so far. */
  decodedBytes(): number;
  /** The first bytes as sent, kept for a dead letter when the whole request is refused. */
  head(): Buffer;
}

const HEAD_BYTES = 64 * 1024;
/** gzip inside gzip (a .gz export sent with Content-Encoding: gzip) is inflated too, this deep. */
const MAX_GZIP_LAYERS = 3;

export type ContentCoding = 'identity' | 'gzip';

/** Maps a Content-Encoding header to what the collector decodes, or undefined when unsupported. */
export function parseContentEncoding(header: string | undefined): ContentCoding | undefined {
  const value = (header ?? '').trim().toLowerCase();
  if (value === '' || value === 'identity') return 'identity';
  if (value === 'gzip' || value === 'x-gzip') return 'gzip';
  return undefined;
}

function isGzipMagic(bytes: Buffer): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function badGzip(message: string, cause?: unknown): Error {
  return COLLECTOR_ERRORS.create('COLLECTOR_BAD_GZIP', `body is not valid gzip: ${message}`, cause === undefined ? {} : { cause });
}

/**
 * Inflates every gzip layer, whether declared by Content-Encoding or only recognisable
 * by its magic bytes (a .gz file posted as is): the decompressed-size limit must see the
 * bytes the parser will read, or a gzip bomb could slip past it.
 */
async function* inflateLayers(source: AsyncIterable<Buffer>, depth: number, mustBeGzip: boolean): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  const peeked: Buffer[] = [];
  let peekedBytes = 0;
  let ended = false;
  while (peekedBytes < 2) {
    const next = await iterator.next();
    if (next.done === true) {
      ended = true;
      break;
    }
    peeked.push(next.value);
    peekedBytes += next.value.length;
  }
  const first = Buffer.concat(peeked);
  async function* replay(): AsyncGenerator<Buffer> {
    if (first.length > 0) yield first;
    while (!ended) {
      const next = await iterator.next();
      if (next.done === true) return;
      yield next.value;
    }
  }
  if (first.length === 0) return;
  const gzip = isGzipMagic(first);
  if (mustBeGzip && !gzip) throw badGzip('the body does not start with the gzip header');
  if (!gzip) {
    yield* replay();
    return;
  }
  if (depth >= MAX_GZIP_LAYERS) throw badGzip(`gzip nested more than ${MAX_GZIP_LAYERS} layers deep`);
  const gunzip = createGunzip();
  // pipeline destroys the gunzip stream with any error of the source, so iterating it throws that error.
  let sourceError: unknown;
  pipeline(Readable.from(replay()), gunzip, (error) => {
    if (error !== undefined && error !== null && isCalwatchError(error)) sourceError = error;
  });
  try {
    yield* inflateLayers(gunzip as AsyncIterable<Buffer>, depth + 1, false);
  } catch (error) {
    if (isCalwatchError(error)) throw error;
    if (sourceError !== undefined) throw sourceError;
    throw badGzip((error as Error).message, error);
  } finally {
    gunzip.destroy();
  }
}

/**
 * Reads a request body under both size limits. Decompression runs chunk by chunk, so a
 * gzip bomb is stopped once it has inflated past the limit, without holding it in memory.
 */
export function readBody(
  source: AsyncIterable<Buffer | string>,
  coding: ContentCoding,
  limits: BodyLimits,
  /** Told the running total of decoded bytes (the in-flight budget); may throw to stop reading. */
  onDecodedBytes?: (total: number) => void,
): BodyStream {
  let received = 0;
  let decoded = 0;
  const headParts: Buffer[] = [];
  let headLength = 0;

  async function* counted(): AsyncGenerator<Buffer> {
    try {
      for await (const part of source) {
        const chunk = typeof part === 'string' ? Buffer.from(part) : part;
        received += chunk.length;
        if (headLength < HEAD_BYTES) {
          headParts.push(chunk.subarray(0, HEAD_BYTES - headLength));
          headLength += Math.min(chunk.length, HEAD_BYTES - headLength);
        }
        if (received > limits.maxBytes) {
          throw COLLECTOR_ERRORS.create('COLLECTOR_BODY_TOO_LARGE', `body exceeds ${limits.maxBytes} bytes`, {
            context: { maxBytes: limits.maxBytes },
          });
        }
        if (chunk.length > 0) yield chunk;
      }
    } catch (error) {
      if (isCalwatchError(error)) throw error;
      throw COLLECTOR_ERRORS.create('COLLECTOR_BODY_ABORTED', 'the request body ended before it was complete', { cause: error });
    }
  }

  async function* decodedChunks(): AsyncGenerator<Buffer> {
    for await (const chunk of inflateLayers(counted(), 0, coding === 'gzip')) {
      decoded += chunk.length;
      if (decoded > limits.maxDecompressedBytes) {
        throw COLLECTOR_ERRORS.create('COLLECTOR_DECOMPRESSED_TOO_LARGE', `body inflates beyond ${limits.maxDecompressedBytes} bytes`, {
          context: { maxDecompressedBytes: limits.maxDecompressedBytes, receivedBytes: received },
        });
      }
      onDecodedBytes?.(decoded);
      yield chunk;
    }
  }

  return {
    chunks: decodedChunks(),
    receivedBytes: () => received,
    decodedBytes: () => decoded,
    head: () => Buffer.concat(headParts),
  };
}
