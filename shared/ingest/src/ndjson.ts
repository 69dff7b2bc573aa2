import { LineSplitter, type TextLine } from './line-splitter';
import { rejected } from './rejection';
import type { ParseOptions, ParsedBatch, ParsedItem } from './types';

const MAX_DEPTH = 64;

/** True when brackets outside strings nest deeper than `max` (checked before JSON.parse). */
export function exceedsDepth(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i += 1;
      else if (c === 34) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 123 || c === 91) {
      depth += 1;
      if (depth > max) return true;
    } else if (c === 125 || c === 93) {
      depth -= 1;
    }
  }
  return false;
}

export interface NdjsonRecord {
  value: unknown;
  text: string;
  line: number;
  record: number;
}

/**
 * Reads NDJSON: one JSON value per line. Lines that are too long or not JSON become
 * rejections; the others go to `map`, which turns a value into an item. Yields one batch
 * per chunk of text: the lines that chunk completed (see ParsedBatch).
 */
export async function* parseNdjson(
  text: AsyncIterable<string>,
  options: ParseOptions,
  map: (record: NdjsonRecord) => ParsedItem,
): AsyncGenerator<ParsedBatch> {
  const splitter = new LineSplitter();
  const ref = options.ref;
  let record = 0;

  /** The items of the lines split so far (taken out of `lines`), in order. */
  function handle(lines: TextLine[]): ParsedItem[] {
    const out: ParsedItem[] = [];
    for (const line of lines) {
      record += 1;
      const at = { ref, line: line.line, record };
      if (line.tooLarge) {
        out.push(rejected(at, 'INGEST_RECORD_TOO_LARGE', 'the line is longer than the 1 MiB a record may have', line.text));
        continue;
      }
      if (exceedsDepth(line.text, MAX_DEPTH)) {
        out.push(rejected(at, 'INGEST_JSON_TOO_DEEP', `the JSON value nests deeper than ${MAX_DEPTH} levels`, line.text));
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(line.text);
      } catch (error) {
        out.push(rejected(at, 'INGEST_JSON_SYNTAX', `not valid JSON (${(error as Error).message})`, line.text));
        continue;
      }
      out.push(map({ value, text: line.text, line: line.line, record }));
    }
    lines.length = 0;
    return out;
  }

  const lines: TextLine[] = [];
  for await (const chunk of text) {
    splitter.push(chunk, lines);
    const batch = handle(lines);
    if (batch.length > 0) yield batch;
  }
  splitter.end(lines);
  const last = handle(lines);
  if (last.length > 0) yield last;
}

/** True for a plain JSON object (not an array or null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `a.b.c` from nested objects, or from a flattened key `"a.b.c"` as some shippers write it. */
export function getPath(object: Record<string, unknown>, path: string): unknown {
  if (path in object) return object[path];
  const dot = path.indexOf('.');
  if (dot < 0) return undefined;
  const head = object[path.slice(0, dot)];
  return isObject(head) ? getPath(head, path.slice(dot + 1)) : undefined;
}
