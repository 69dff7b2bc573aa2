import { describe, expect, it } from 'vitest';
import { CsvReader, type CsvRecord } from './csv-reader';

function read(text: string, chunk = text.length || 1, max?: number): CsvRecord[] {
  const reader = new CsvReader(max);
  const out: CsvRecord[] = [];
  for (let i = 0; i < text.length; i += chunk) reader.push(text.slice(i, i + chunk), out);
  reader.end(out);
  return out;
}

const SAMPLE = '"a","b","c"\r\n"1","x ""quoted"", with comma",\r\n"2","multi\r\nline",""\n3,plain,"end"';

describe('CsvReader', () => {
  it('reads RFC 4180 records with quotes, commas and line breaks inside fields', () => {
    const records = read(SAMPLE);
    expect(records.map((r) => r.fields)).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x "quoted", with comma', ''],
      ['2', 'multi\r\nline', ''],
      ['3', 'plain', 'end'],
    ]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 5]);
    expect(records[1]!.raw).toBe('"1","x ""quoted"", with comma",');
    expect(records.every((r) => r.error === null)).toBe(true);
  });

  it('gives the same records whatever the chunk boundaries', () => {
    const whole = read(SAMPLE);
    for (let size = 1; size <= 7; size += 1) expect(read(SAMPLE, size)).toEqual(whole);
  });

  it('accepts CR-only line ends and skips blank lines', () => {
    expect(read('a,b\r1,2\r\r\n\n3,4').map((r) => r.fields)).toEqual([['a', 'b'], ['1', '2'], ['3', '4']]);
  });

  it('reports a stray quote and resumes at the next line', () => {
    const records = read('"a","b"\n"1","x"y"\n2,x"y\n"3","ok"\n');
    expect(records.map((r) => [r.line, r.error === null ? r.fields : r.error])).toEqual([
      [1, ['a', 'b']],
      [2, 'unexpected character "y" after the closing quote of field 2'],
      [3, 'a quote inside an unquoted field (field 2)'],
      [4, ['3', 'ok']],
    ]);
    expect(records[1]!.raw).toBe('"1","x"y"');
  });

  it('reports an unterminated quote at the end of input', () => {
    const records = read('"a"\n"1","never closed\nmore');
    expect(records).toHaveLength(2);
    expect(records[1]!.error).toMatch(/unterminated quote/);
  });

  it('cuts a runaway quoted field at the next line once it passes the limit', () => {
    const text = `"a"\n"${'x'.repeat(50)}\nline2 "tail\n"ok"\n`;
    const records = read(text, 8, 30);
    expect(records.map((r) => r.error ?? r.fields.join('|'))).toEqual([
      'a',
      'the record is longer than 30 characters',
      // Reading resumes on the next line, which is itself malformed here.
      'a quote inside an unquoted field (field 1)',
      'ok',
    ]);
  });
});
