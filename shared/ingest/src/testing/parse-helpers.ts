// Helpers for the ingest tests: a test-only folder, never exported from the package.
import { fileURLToPath } from 'node:url';
import { parseStream } from '../parse-stream';
import type { ParseOptions, ParsedItem, Rejection } from '../types';

export const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/', import.meta.url));

export function fixture(relative: string): string {
  return `${FIXTURES}${relative}`;
}

export async function collect(items: AsyncIterable<ParsedItem>): Promise<ParsedItem[]> {
  const out: ParsedItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Parses in-memory input, optionally cut into chunks of `chunkSize` bytes. */
export function parseBytes(input: Buffer | string, options: Partial<ParseOptions> = {}, chunkSize?: number): Promise<ParsedItem[]> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  async function* chunks(): AsyncGenerator<Buffer> {
    const size = chunkSize ?? Math.max(1, bytes.length);
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  return collect(parseStream(chunks(), { ref: 'test', observedTime: '2024-06-14T00:00:00.000Z', ...options }));
}

export function rejections(items: ParsedItem[]): Rejection[] {
  return items.flatMap((item) => (item.kind === 'rejected' ? [item.rejection] : []));
}
