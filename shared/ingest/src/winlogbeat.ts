import { buildServiceEvent, type RawWindowsEvent } from './service-event';
import { getPath, isObject, parseNdjson, type NdjsonRecord } from './ndjson';
import { rejected, rejectedRow } from './rejection';
import type { ParseOptions, ParsedBatch, ParsedItem } from './types';

const FIELD_NAMES = {
  provider: 'winlog.provider_name',
  eventId: 'event.code',
  computer: 'winlog.computer_name',
  timeCreated: '@timestamp',
};

function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return null;
}

/** Inserts from `winlog.event_data` or `winlog.user_data` (whose fields may sit under `EventXML`). */
function readInserts(event: Record<string, unknown>): { name: string | null; value: string }[] {
  let data = getPath(event, 'winlog.event_data');
  if (!isObject(data)) {
    data = getPath(event, 'winlog.user_data');
    if (isObject(data)) {
      const entries = Object.entries(data).filter(([key]) => key !== 'xml_name');
      const only = entries.length === 1 ? entries[0] : undefined;
      if (only !== undefined && isObject(only[1])) data = only[1];
    }
  }
  if (!isObject(data)) return [];
  return Object.entries(data)
    .filter(([key]) => key !== 'xml_name')
    .map(([name, value]) => ({ name, value: text(value) ?? JSON.stringify(value) }));
}

/** Maps one Winlogbeat / Elastic Agent document (ECS, `winlog.*`) to the raw event shape. */
export function readWinlogbeatEvent(event: Record<string, unknown>): RawWindowsEvent {
  return {
    provider: text(getPath(event, 'winlog.provider_name')) ?? text(getPath(event, 'event.provider')),
    eventSourceName: null,
    eventId: getPath(event, 'event.code') ?? getPath(event, 'winlog.event_id'),
    channel: text(getPath(event, 'winlog.channel')),
    recordId: text(getPath(event, 'winlog.record_id')),
    computer: text(getPath(event, 'winlog.computer_name')) ?? text(getPath(event, 'host.name')),
    level: text(getPath(event, 'log.level')) ?? text(getPath(event, 'winlog.level')),
    timeCreated: getPath(event, '@timestamp'),
    inserts: readInserts(event),
    fieldNames: FIELD_NAMES,
  };
}

export function parseWinlogbeat(text: AsyncIterable<string>, options: ParseOptions): AsyncGenerator<ParsedBatch> {
  const ctx = {
    sourceKind: 'winlogbeat' as const,
    ref: options.ref,
    observedTime: options.observedTime,
    fallbackServer: options.licenseServer,
  };
  return parseNdjson(text, options, (record: NdjsonRecord): ParsedItem => {
    const at = { ref: options.ref, line: record.line, record: record.record };
    if (!isObject(record.value)) {
      return rejected(at, 'INGEST_SCHEMA_INVALID', 'expected a JSON object (one Winlogbeat event per line)', record.text);
    }
    const result = buildServiceEvent(readWinlogbeatEvent(record.value), ctx);
    return result.ok ? { kind: 'event', event: result.event, record: record.record } : rejectedRow(at, result.problems, record.text);
  });
}
