import {
  ClientStoreInventory,
  buildComputer,
  buildEventId,
  buildHwid,
  normalizeComputer,
  type Hwid,
} from '@calwatch/model';
import { isObject, parseNdjson } from './ndjson';
import { rejected, rejectedRow } from './rejection';
import type { ParseOptions, ParsedBatch, ParsedItem } from './types';
import type { FieldProblem } from './wmi-records';
import { parseDate, showValue } from './wmi-values';

/**
 * JSON lines from the client-side store script: `{ computer, hwids: [...], observedTime?,
 * licenseServer? }`, one per client. Several HWIDs for one client means a corrupted
 * MSLicensing store. eventTime is when the store was read.
 */
export function parseClientStore(text: AsyncIterable<string>, options: ParseOptions): AsyncGenerator<ParsedBatch> {
  return parseNdjson(text, options, (record): ParsedItem => {
    const at = { ref: options.ref, line: record.line, record: record.record };
    if (!isObject(record.value)) {
      return rejected(at, 'INGEST_SCHEMA_INVALID', 'expected a JSON object {computer, hwids, observedTime?, licenseServer?}', record.text);
    }
    const value = record.value;
    const problems: FieldProblem[] = [];

    const computerRaw = value['computer'];
    const computer = typeof computerRaw === 'string' ? buildComputer(computerRaw) : undefined;
    if (computer === undefined || computer.norm === '') {
      problems.push({
        code: computerRaw === undefined ? 'INGEST_MISSING_FIELD' : 'INGEST_BAD_FIELD',
        field: 'computer',
        message: `computer: expected a computer name, found ${showValue(computerRaw)}`,
      });
    }

    const hwids: Hwid[] = [];
    const hwidsRaw = value['hwids'];
    if (!Array.isArray(hwidsRaw) || hwidsRaw.length === 0) {
      problems.push({
        code: hwidsRaw === undefined ? 'INGEST_MISSING_FIELD' : 'INGEST_BAD_FIELD',
        field: 'hwids',
        message: `hwids: expected a non-empty array of hardware ids, found ${showValue(hwidsRaw)}`,
      });
    } else {
      hwidsRaw.forEach((raw: unknown, index) => {
        const hwid = typeof raw === 'string' ? buildHwid(raw) : undefined;
        if (hwid === undefined) {
          problems.push({
            code: 'INGEST_BAD_FIELD',
            field: `hwids.${index}`,
            message: `hwids[${index}]: expected a hardware id holding hex digits, found ${showValue(raw)}`,
          });
        } else {
          hwids.push(hwid);
        }
      });
    }

    const serverRaw = value['licenseServer'] ?? options.licenseServer;
    const licenseServer = typeof serverRaw === 'string' ? normalizeComputer(serverRaw) : '';
    if (licenseServer === '') {
      problems.push({
        code: 'INGEST_MISSING_FIELD',
        field: 'licenseServer',
        message: `licenseServer: expected the license server name (in the record or as the fallback), found ${showValue(value['licenseServer'])}`,
      });
    }

    const observedRaw = value['observedTime'];
    const observed = observedRaw === undefined || observedRaw === null ? parseDate(options.observedTime) : parseDate(observedRaw);
    if (!observed.ok) {
      problems.push({
        code: 'INGEST_BAD_FIELD',
        field: 'observedTime',
        message: `observedTime: expected ${observed.expected}, found ${showValue(observedRaw)}`,
      });
    }
    if (problems.length > 0 || computer === undefined || !observed.ok) return rejectedRow(at, problems, record.text);

    const norms = [...new Set(hwids.map((h) => h.norm))].sort();
    const candidate = {
      schemaVersion: 1 as const,
      eventId: buildEventId('client.store', licenseServer, computer.norm, norms.join(','), observed.value),
      eventTime: observed.value,
      observedTime: observed.value,
      source: { kind: 'client-store' as const, ref: options.ref },
      licenseServer,
      type: 'client.store' as const,
      computer,
      hwids,
    };
    const parsed = ClientStoreInventory.safeParse(candidate);
    if (parsed.success) return { kind: 'event', event: parsed.data, record: record.record };
    return rejected(at, 'INGEST_SCHEMA_INVALID', parsed.error.issues[0]?.message ?? 'invalid', record.text);
  });
}
