import { describe, expect, it } from 'vitest';
import { JsonSplitter, type JsonRecordText } from './json-splitter';

function split(text: string, chunk = text.length || 1, max?: number, depth?: number): JsonRecordText[] {
  const splitter = new JsonSplitter(max, depth);
  const out: JsonRecordText[] = [];
  for (let i = 0; i < text.length; i += chunk) splitter.push(text.slice(i, i + chunk), out);
  splitter.end(out);
  return out;
}

describe('JsonSplitter', () => {
  const ARRAY = '[\r\n  {"a": "x}\\"]", "b": [1, {"c": 2}]},\r\n  {"a": 2}\r\n]\r\n';

  it('yields the elements of a top-level array with their start lines', () => {
    expect(split(ARRAY).map((r) => [r.line, JSON.parse(r.text)])).toEqual([
      [2, { a: 'x}"]', b: [1, { c: 2 }] }],
      [3, { a: 2 }],
    ]);
  });

  it('is independent of chunk boundaries', () => {
    const whole = split(ARRAY);
    for (let size = 1; size <= 5; size += 1) expect(split(ARRAY, size)).toEqual(whole);
  });

  it('reads a single object and concatenated values', () => {
    expect(split('{"a":1}').map((r) => r.text)).toEqual(['{"a":1}']);
    expect(split('{"a":1}\n{"a":2} 7 "s" null').map((r) => r.text)).toEqual(['{"a":1}', '{"a":2}', '7', '"s"', 'null']);
  });

  it('flags truncation inside a value and an unclosed array', () => {
    const records = split('[{"a":1},{"a":');
    expect(records.map((r) => r.error?.message ?? r.text)).toEqual([
      '{"a":1}',
      'the input ended inside this JSON value (truncated?)',
      expect.stringMatching(/closing \] of the top-level array/),
    ]);
  });

  it('flags values nested too deep and too large, and keeps reading after them', () => {
    const deep = `${'['.repeat(100)}${']'.repeat(100)}`;
    const records = split(`[${deep},{"ok":1},{"big":"${'x'.repeat(300)}"},{"ok":2}]`, 16, 256, 64);
    expect(records.map((r) => r.error?.code ?? r.text)).toEqual([
      'INGEST_JSON_TOO_DEEP',
      '{"ok":1}',
      'INGEST_RECORD_TOO_LARGE',
      '{"ok":2}',
    ]);
  });

  it('turns a stray closer into a record of its own', () => {
    expect(split('{"a":1}}]{"b":2}').map((r) => r.text)).toEqual(['{"a":1}', '}', ']', '{"b":2}']);
  });
});
