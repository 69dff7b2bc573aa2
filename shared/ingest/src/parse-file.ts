import { createReadStream } from 'node:fs';
import { parseStream } from './parse-stream';
import type { ParseOptions, ParsedBatch } from './types';

/** Reads a file (gzip transparently) and parses it, in batches as parseStream; `ref` defaults to the path. */
export function parseFile(
  path: string,
  options: Omit<ParseOptions, 'ref'> & { ref?: string },
): AsyncIterable<ParsedBatch> {
  return parseStream(createReadStream(path), { ...options, ref: options.ref ?? path });
}
