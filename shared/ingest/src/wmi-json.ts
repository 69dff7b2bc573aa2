import { JsonSplitter, type JsonRecordText } from './json-splitter';
import { rejected, rejectedRow } from './rejection';
import type { ParseOptions, ParsedBatch, ParsedItem } from './types';
import { readWmiRow, type FieldReader, type WmiClass } from './wmi-records';

/**
 * Reads `ConvertTo-Json` output of Win32_TSIssuedLicense / Win32_TSLicenseKeyPack: one
 * object or an array, Windows PowerShell 5.1 (`/Date(ms)/`, ETS date objects) or 7.x (ISO
 * dates), with or without the CIM extras (CimClass, CimInstanceProperties,
 * CimSystemProperties, PSComputerName), which are ignored except for the server name.
 * Yields one batch per chunk of text: the records that chunk completed (see ParsedBatch).
 */
export async function* parseWmiJson(
  text: AsyncIterable<string>,
  wmiClass: WmiClass,
  options: ParseOptions,
): AsyncGenerator<ParsedBatch> {
  const splitter = new JsonSplitter();
  const ref = options.ref;
  let record = 0;

  /** The items of the records split so far (taken out of `values`), in order. */
  function handle(values: JsonRecordText[]): ParsedItem[] {
    const out: ParsedItem[] = [];
    for (const value of values) {
      if (value.text === '' && value.error !== null) {
        // Not a record: the input itself was cut short.
        out.push(rejected({ ref, line: value.line, record: null }, value.error.code, value.error.message, ''));
        continue;
      }
      record += 1;
      const at = { ref, line: value.line, record };
      if (value.error !== null) {
        out.push(rejected(at, value.error.code, value.error.message, value.text));
        continue;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(value.text);
      } catch (error) {
        out.push(rejected(at, 'INGEST_JSON_SYNTAX', `not valid JSON (${(error as Error).message})`, value.text));
        continue;
      }
      // Windows PowerShell 5.1 can render an array as {"value": [...], "Count": n} (the
      // System.Array type data); its elements are the rows.
      if (isArrayWrapper(parsed)) {
        record -= 1;
        for (const element of parsed.value) {
          record += 1;
          out.push(handleObject(element, { ref, line: value.line, record }, JSON.stringify(element)));
        }
        continue;
      }
      out.push(handleObject(parsed, at, value.text));
    }
    values.length = 0;
    return out;
  }

  function handleObject(parsed: unknown, at: { ref: string; line: number; record: number }, text: string): ParsedItem {
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      const found = Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : `a ${typeof parsed}`;
      return rejected(at, 'INGEST_SCHEMA_INVALID', `expected a JSON object with the class properties, found ${found}`, text);
    }
    const result = readWmiRow(wmiClass, objectReader(parsed as Record<string, unknown>), options.licenseServer, at.record);
    return result.ok ? result.item : rejectedRow(at, result.problems, text);
  }

  const values: JsonRecordText[] = [];
  for await (const chunk of text) {
    splitter.push(chunk, values);
    const batch = handle(values);
    if (batch.length > 0) yield batch;
  }
  splitter.end(values);
  const last = handle(values);
  if (last.length > 0) yield last;
}

function isArrayWrapper(value: unknown): value is { value: unknown[]; Count: number } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  const record = value as Record<string, unknown>;
  return keys.length === 2 && Array.isArray(record['value']) && typeof record['Count'] === 'number';
}

/** Case-insensitive property lookup (PowerShell property names are case-insensitive). */
export function objectReader(object: Record<string, unknown>): FieldReader {
  const byName = new Map<string, unknown>();
  for (const [key, value] of Object.entries(object)) {
    const lower = key.toLowerCase();
    if (!byName.has(lower)) byName.set(lower, value);
  }
  return (name) => byName.get(name.toLowerCase());
}
