import { createReadStream } from 'node:fs';
import { parseStream } from './parse-stream';
import type { ParseOptions, ParsedItem } from './types';

/** Reads a file (gzip transparently) and parses it; `ref` defaults to the path. */
export function parseFile(
  path: string,
  options: Omit<ParseOptions, 'ref'> & { ref?: string },
): AsyncIterable<ParsedItem> {
  return parseStream(createReadStream(path), { ...options, ref: options.ref ?? path });
}
