import { CsvReader, type CsvRecord } from './csv-reader';
import { rejected, rejectedRow } from './rejection';
import type { ParseOptions, ParsedBatch, ParsedItem } from './types';
import { readWmiRow, type FieldReader, type WmiClass } from './wmi-records';

/**
 * Reads an `Export-Csv` of Win32_TSIssuedLicense or Win32_TSLicenseKeyPack: Windows
 * PowerShell 5.1 (a `#TYPE` line first) or PowerShell 7 (none). The header names decide
 * which field is which; extra columns (`__` system properties, .NET properties) are ignored.
 * Yields one batch per chunk of text: the rows that chunk completed (see ParsedBatch).
 */
export async function* parseWmiCsv(
  text: AsyncIterable<string>,
  wmiClass: WmiClass,
  options: ParseOptions,
): AsyncGenerator<ParsedBatch> {
  const reader = new CsvReader();
  const ref = options.ref;
  let header: Map<string, number> | undefined;
  let headerProblem: string | undefined;
  let sawFirstLine = false;
  let record = 0;
  // The row being read; `read` looks its fields up by the header's names (resolved once per
  // name: a closure and a lower-casing per field and row cost more than the row's parsing).
  let fields: string[] = [];
  const indexOf = new Map<string, number | undefined>();
  const read: FieldReader = (name) => {
    let index = indexOf.get(name);
    if (index === undefined && !indexOf.has(name)) {
      index = header?.get(name.toLowerCase());
      indexOf.set(name, index);
    }
    if (index === undefined) return undefined;
    return fields[index] ?? null;
  };

  /** The items of the rows read so far (taken out of `rows`), in order. */
  function handle(rows: CsvRecord[]): ParsedItem[] {
    const out: ParsedItem[] = [];
    for (const row of rows) {
      if (!sawFirstLine) {
        sawFirstLine = true;
        // Windows PowerShell's type line: `#TYPE System.Management.ManagementObject#root\cimv2\<Class>`.
        if (row.raw.startsWith('#')) continue;
      }
      if (header === undefined && headerProblem === undefined) {
        if (row.error !== null) {
          headerProblem = `the header line is malformed (${row.error})`;
          out.push(rejected({ ref, line: row.line, record: null }, 'INGEST_CSV_SYNTAX', headerProblem, row.raw));
        } else {
          header = new Map();
          row.fields.forEach((name, index) => {
            const key = name.trim().toLowerCase();
            if (!header!.has(key)) header!.set(key, index);
          });
        }
        continue;
      }
      record += 1;
      const at = { ref, line: row.line, record };
      if (header === undefined) {
        out.push(rejected(at, 'INGEST_CSV_SYNTAX', `no usable header: ${headerProblem}`, row.raw));
        continue;
      }
      if (row.error !== null) {
        out.push(rejected(at, 'INGEST_CSV_SYNTAX', row.error, row.raw));
        continue;
      }
      if (row.fields.length > header.size) {
        out.push(
          rejected(at, 'INGEST_CSV_COLUMN_COUNT', `expected at most ${header.size} fields as named by the header, found ${row.fields.length}`, row.raw),
        );
        continue;
      }
      fields = row.fields;
      const result = readWmiRow(wmiClass, read, options.licenseServer, record);
      out.push(result.ok ? result.item : rejectedRow(at, result.problems, row.raw));
    }
    rows.length = 0;
    return out;
  }

  const rows: CsvRecord[] = [];
  for await (const chunk of text) {
    reader.push(chunk, rows);
    const batch = handle(rows);
    if (batch.length > 0) yield batch;
  }
  reader.end(rows);
  const last = handle(rows);
  if (last.length > 0) yield last;
}
