import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { parseContentEncoding, readBody } from './body-stream';

async function* chunksOf(buffer: Buffer, size = 1000): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < buffer.length; offset += size) yield buffer.subarray(offset, offset + size);
}

async function collect(iterable: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of iterable) parts.push(part);
  return Buffer.concat(parts);
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return isCalwatchError(error) ? error.code : `uncoded: ${String(error)}`;
  }
  return 'no error';
}

const limits = { maxBytes: 10_000, maxDecompressedBytes: 50_000 };

describe('readBody', () => {
  it('passes a plain body through and counts it', async () => {
    const text = Buffer.from('a,b\n1,2\n'.repeat(100));
    const body = readBody(chunksOf(text, 7), 'identity', limits);
    expect((await collect(body.chunks)).equals(text)).toBe(true);
    expect(body.receivedBytes()).toBe(text.length);
    expect(body.decodedBytes()).toBe(text.length);
  });

  it('inflates a gzip body, declared or recognised by its magic bytes, and gzip inside gzip', async () => {
    const text = Buffer.from('{"x":1}\n'.repeat(500));
    expect((await collect(readBody(chunksOf(gzipSync(text)), 'gzip', limits).chunks)).equals(text)).toBe(true);
    expect((await collect(readBody(chunksOf(gzipSync(text)), 'identity', limits).chunks)).equals(text)).toBe(true);
    expect((await collect(readBody(chunksOf(gzipSync(gzipSync(text))), 'gzip', limits).chunks)).equals(text)).toBe(true);
  });

  it('stops a body larger than the limit as sent', async () => {
    const body = readBody(chunksOf(Buffer.alloc(20_000, 0x41)), 'identity', limits);
    expect(await codeOf(collect(body.chunks))).toBe('COLLECTOR_BODY_TOO_LARGE');
    expect(body.receivedBytes()).toBeLessThanOrEqual(11_000);
  });

  it('stops a gzip bomb once it inflates past the limit', async () => {
    // 50 MB of zeros compress to ~50 KB; with maxBytes large enough the inflate limit must stop it.
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024));
    const body = readBody(chunksOf(bomb, 16_384), 'gzip', { maxBytes: 1_000_000, maxDecompressedBytes: 1_000_000 });
    expect(await codeOf(collect(body.chunks))).toBe('COLLECTOR_DECOMPRESSED_TOO_LARGE');
    expect(body.decodedBytes()).toBeLessThan(1_200_000);
  });

  it('stops an undeclared gzip bomb (magic bytes only) the same way', async () => {
    const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024));
    const body = readBody(chunksOf(bomb), 'identity', { maxBytes: 1_000_000, maxDecompressedBytes: 100_000 });
    expect(await codeOf(collect(body.chunks))).toBe('COLLECTOR_DECOMPRESSED_TOO_LARGE');
  });

  it('refuses broken, truncated or undeclared-plain gzip', async () => {
    const good = gzipSync(Buffer.from('hello world '.repeat(100)));
    expect(await codeOf(collect(readBody(chunksOf(Buffer.from('not gzip at all')), 'gzip', limits).chunks))).toBe('COLLECTOR_BAD_GZIP');
    expect(await codeOf(collect(readBody(chunksOf(good.subarray(0, good.length - 10)), 'gzip', limits).chunks))).toBe('COLLECTOR_BAD_GZIP');
    const corrupt = Buffer.from(good);
    corrupt.fill(0xff, 12, 40);
    expect(await codeOf(collect(readBody(chunksOf(corrupt), 'gzip', limits).chunks))).toBe('COLLECTOR_BAD_GZIP');
  });

  it('reports a source that fails mid-body as aborted', async () => {
    async function* broken(): AsyncGenerator<Buffer> {
      yield Buffer.from('abc');
      throw new Error('socket hang up');
    }
    expect(await codeOf(collect(readBody(broken(), 'identity', limits).chunks))).toBe('COLLECTOR_BODY_ABORTED');
  });

  it('keeps the first bytes as sent for a dead letter', async () => {
    const body = readBody(chunksOf(Buffer.alloc(200_000, 0x42)), 'identity', { maxBytes: 150_000, maxDecompressedBytes: 1e9 });
    await codeOf(collect(body.chunks));
    expect(body.head().length).toBe(64 * 1024);
    expect(body.head().every((b) => b === 0x42)).toBe(true);
  });
});

describe('parseContentEncoding', () => {
  it('accepts gzip and identity only', () => {
    expect(parseContentEncoding(undefined)).toBe('identity');
    expect(parseContentEncoding('GZIP')).toBe('gzip');
    expect(parseContentEncoding('x-gzip')).toBe('gzip');
    expect(parseContentEncoding('br')).toBeUndefined();
    expect(parseContentEncoding('gzip, br')).toBeUndefined();
  });
});
