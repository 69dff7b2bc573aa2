// Helpers for the ingest tests: a test-only folder, never exported from the package.
import { fileURLToPath } from 'node:url';
import { parseStream } from '../parse-stream';
import type { ParseOptions, ParsedBatch, ParsedItem, Rejection } from '../types';

export const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/', import.meta.url));

export function fixture(relative: string): string {
  return `${FIXTURES}${relative}`;
}

/** The batches as they came; an empty one breaks the contract (see ParsedBatch) and fails the test. */
export async function collectBatches(batches: AsyncIterable<ParsedBatch>): Promise<ParsedBatch[]> {
  const out: ParsedBatch[] = [];
  for await (const batch of batches) {
    if (!Array.isArray(batch) || batch.length === 0) throw new Error(`a parser yielded ${Array.isArray(batch) ? 'an empty batch' : 'something other than a batch'}`);
    out.push(batch);
  }
  return out;
}

/** The items of every batch, in order (batches checked as collectBatches does). */
export async function collect(batches: AsyncIterable<ParsedBatch>): Promise<ParsedItem[]> {
  const out: ParsedItem[] = [];
  for (const batch of await collectBatches(batches)) for (const item of batch) out.push(item);
  return out;
}

/** In-memory input cut into chunks of `chunkSize` bytes (one chunk when not given). */
export async function* chunksOf(input: Buffer | string, chunkSize?: number): AsyncGenerator<Buffer> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const size = chunkSize ?? Math.max(1, bytes.length);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export const TEST_OPTIONS: ParseOptions = { ref: 'test', observedTime: '2024-06-14T00:00:00.000Z' };

/** Parses in-memory input, optionally cut into chunks of `chunkSize` bytes. */
export function parseBytes(input: Buffer | string, options: Partial<ParseOptions> = {}, chunkSize?: number): Promise<ParsedItem[]> {
  return collect(parseStream(chunksOf(input, chunkSize), { ...TEST_OPTIONS, ...options }));
}

export function rejections(items: ParsedItem[]): Rejection[] {
  return items.flatMap((item) => (item.kind === 'rejected' ? [item.rejection] : []));
}
