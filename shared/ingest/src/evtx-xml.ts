import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { RAW_PREFIX_CHARS } from './carried-text';
import { rejected, rejectedRow } from './rejection';
import { buildServiceEvent, type RawWindowsEvent } from './service-event';
import type { ParseOptions, ParsedBatch, ParsedItem } from './types';

/** An event (or a run of text between events) longer than this stops the reading. */
const MAX_RECORD_CHARS = 4 << 20;
const MAX_READ_DEPTH = 3;

const FIELD_NAMES = {
  provider: 'System/Provider/@Name',
  eventId: 'System/EventID',
  computer: 'System/Computer',
  timeCreated: 'System/TimeCreated/@SystemTime',
};

interface OpenElement {
  /** Path below the record element, e.g. ['System', 'Provider']. */
  path: string[];
  attributes: Record<string, string>;
  text: string;
  hasChild: boolean;
  deep: boolean;
}

interface OpenRecord {
  number: number;
  line: number;
  /** Stream position of the record's `<`. */
  start: number;
  element: string;
  error: string | null;
  /** Stream position of the latest error inside the record. */
  errorAt: number;
  raw: RawWindowsEvent;
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

function emptyEvent(): RawWindowsEvent {
  return {
    provider: null,
    eventSourceName: null,
    eventId: undefined,
    channel: null,
    recordId: null,
    computer: null,
    level: null,
    timeCreated: undefined,
    inserts: [],
    fieldNames: FIELD_NAMES,
  };
}

/**
 * Reads Windows events rendered as XML: `wevtutil qe <log> /f:xml` (concatenated `<Event>`
 * elements, no root), the same inside an `<Events>` root, or `Get-WinEvent … | % ToXml()`.
 * Streams with saxes, which never expands DTD entities (an entity reference other than
 * the five predefined ones is an error), so entity bombs and external entities are inert.
 * Each `<Event>` is one record; a malformed one is rejected and reading goes on. Yields one
 * batch per chunk of text: the events that chunk completed (see ParsedBatch).
 */
export async function* parseEvtxXml(text: AsyncIterable<string>, options: ParseOptions): AsyncGenerator<ParsedBatch> {
  const ref = options.ref;
  const ctx = { sourceKind: 'evtx-xml' as const, ref, observedTime: options.observedTime, fallbackServer: options.licenseServer };
  const parser = new SaxesParser({ fragment: true, position: true });
  const out: ParsedItem[] = [];
  let buffer = '';
  let bufferBase = 0;
  let records = 0;
  let stackDepth = 0;
  let containerDepth = 0;
  let sawElement = false;
  let record: OpenRecord | undefined;
  // A malformed event that saxes closed early (it unwinds every open element on a
  // mismatched end tag): what follows up to the next <Event> still belongs to it.
  let broken: OpenRecord | undefined;
  let lostContainer = false;
  const elements: OpenElement[] = [];
  let gapReported = false;

  const slice = (from: number, to: number) => buffer.slice(Math.max(0, from - bufferBase), Math.max(0, to - bufferBase));
  const dropBefore = (position: number) => {
    if (position > bufferBase) {
      buffer = buffer.slice(position - bufferBase);
      bufferBase = position;
    }
  };
  const reportGap = (message: string, code: 'INGEST_XML_SYNTAX' | 'INGEST_XML_NOT_EVENT') => {
    if (gapReported) return;
    gapReported = true;
    const line = parser.line;
    out.push(rejected({ ref, line, record: null }, code, message, slice(bufferBase, parser.position).slice(0, RAW_PREFIX_CHARS)));
  };

  parser.on('opentagstart', (tag) => {
    sawElement = true;
    const name = localName(tag.name);
    if (broken !== undefined) {
      if (name !== 'Event') return;
      const start = tagStart();
      emitBroken(start);
      stackDepth = containerDepth;
    }
    if (record === undefined) {
      if (name === 'Events' && stackDepth === containerDepth && containerDepth === 0) {
        containerDepth += 1;
        stackDepth += 1;
        return;
      }
      const start = tagStart();
      dropBefore(start);
      records += 1;
      record = { number: records, line: parser.line, start, element: name, error: null, errorAt: -1, raw: emptyEvent() };
      gapReported = false;
      stackDepth += 1;
      return;
    }
    const parent = elements[elements.length - 1];
    if (parent !== undefined) parent.hasChild = true;
    // Nothing calwatch reads sits deeper than UserData/EventXML/paramN; deeper elements
    // share their parent's path so a deeply nested event costs no more than its length.
    const deep = parent !== undefined && parent.path.length >= MAX_READ_DEPTH;
    elements.push({
      path: deep ? parent.path : parent === undefined ? [name] : [...parent.path, name],
      attributes: {},
      text: '',
      hasChild: false,
      deep,
    });
    stackDepth += 1;
  });

  parser.on('opentag', (tag) => {
    const element = elements[elements.length - 1];
    if (broken !== undefined || record === undefined || element === undefined || element.deep) return;
    element.attributes = (tag as SaxesTagPlain).attributes;
    const path = element.path.join('/');
    if (path === 'System/Provider') {
      record.raw.provider = element.attributes['Name'] ?? null;
      record.raw.eventSourceName = element.attributes['EventSourceName'] ?? null;
    } else if (path === 'System/TimeCreated') {
      record.raw.timeCreated = element.attributes['SystemTime'];
    }
  });

  const onText = (data: string) => {
    if (broken !== undefined) return;
    const element = elements[elements.length - 1];
    if (record !== undefined) {
      if (element !== undefined && !element.deep) element.text += data;
    } else if (data.trim() !== '') {
      reportGap(`text outside any <Event>: ${JSON.stringify(data.trim().slice(0, 40))}`, 'INGEST_XML_NOT_EVENT');
    }
  };
  parser.on('text', onText);
  parser.on('cdata', onText);

  parser.on('closetag', () => {
    if (broken !== undefined) return;
    stackDepth = Math.max(0, stackDepth - 1);
    if (record === undefined) {
      if (stackDepth < containerDepth) containerDepth = stackDepth;
      return;
    }
    const element = elements.pop();
    if (element === undefined) {
      finishRecord(record, parser.position);
      record = undefined;
      return;
    }
    if (element.deep) return;
    const raw = record.raw;
    const value = element.text.trim();
    switch (element.path.join('/')) {
      case 'System/EventID':
        raw.eventId = value;
        break;
      case 'System/Level':
        raw.level = value;
        break;
      case 'System/EventRecordID':
        raw.recordId = value === '' ? null : value;
        break;
      case 'System/Channel':
        raw.channel = value;
        break;
      case 'System/Computer':
        raw.computer = value;
        break;
      case 'EventData/Data':
        raw.inserts.push({ name: element.attributes['Name'] ?? null, value: element.text });
        break;
      default:
        if (element.path[0] === 'UserData') {
          // UserData/<EventXML>/<param1>…, or a UserData child holding text itself.
          if (element.path.length === 3 || (element.path.length === 2 && !element.hasChild)) {
            raw.inserts.push({ name: element.path[element.path.length - 1]!, value: element.text });
          }
        }
    }
  });

  parser.on('error', (error) => {
    const message = error.message;
    // saxes in fragment mode objects to any XML declaration; one at the very start is fine.
    if (!sawElement && records === 0 && message.includes('XML declaration')) return;
    if (broken !== undefined) return;
    // After an early unwind, the </Events> end tag no longer matches anything.
    if (record === undefined && lostContainer && message.includes('Events')) return;
    if (record !== undefined) {
      if (record.error === null) record.error = message;
      record.errorAt = parser.position;
    } else {
      reportGap(`malformed XML outside any <Event> (${message})`, 'INGEST_XML_SYNTAX');
    }
  });

  function tagStart(): number {
    return bufferBase + Math.max(0, buffer.lastIndexOf('<', parser.position - 1 - bufferBase));
  }

  function emitBroken(end: number): void {
    const open = broken!;
    broken = undefined;
    // trimEnd, not /\s+$/: the regex retries from every space of a long run (quadratic).
    const original = slice(open.start, end).trimEnd();
    dropBefore(end);
    out.push(rejected({ ref, line: open.line, record: open.number }, 'INGEST_XML_SYNTAX', `malformed <${open.element}> (${open.error})`, original));
  }

  function finishRecord(open: OpenRecord, end: number): void {
    if (open.error !== null) {
      elements.length = 0;
      broken = open;
      // Closed right where it failed: saxes unwound it, so resynchronise at the next <Event>.
      if (open.errorAt === end) {
        if (containerDepth > 0) lostContainer = true;
      } else {
        emitBroken(end);
      }
      return;
    }
    const original = slice(open.start, end);
    dropBefore(end);
    elements.length = 0;
    const at = { ref, line: open.line, record: open.number };
    if (open.element !== 'Event') {
      out.push(rejected(at, 'INGEST_XML_NOT_EVENT', `expected an <Event> element, found <${open.element}>`, original));
    } else {
      const result = buildServiceEvent(open.raw, ctx);
      out.push(result.ok ? { kind: 'event', event: result.event, record: open.number } : rejectedRow(at, result.problems, original));
    }
  }

  let abandoned = false;
  for await (const chunk of text) {
    if (abandoned) continue; // drain the source so it is not left hanging
    buffer += chunk;
    try {
      parser.write(chunk);
    } catch (error) {
      abandon('INGEST_XML_SYNTAX', `the XML reader stopped (${(error as Error).message})`);
    }
    if (!abandoned) {
      if (record === undefined && broken === undefined) {
        // Keep only what an event starting in the next chunk could need.
        const lastLt = buffer.lastIndexOf('<');
        if (lastLt < 0) dropBefore(bufferBase + buffer.length);
        else dropBefore(bufferBase + lastLt);
      }
      const held = buffer.length;
      if (held > MAX_RECORD_CHARS) {
        abandon(
          'INGEST_RECORD_TOO_LARGE',
          `more than ${MAX_RECORD_CHARS} characters without a complete <Event>; the rest of the input was not read`,
        );
      }
    }
    if (out.length > 0) yield out.splice(0);
  }
  if (!abandoned) {
    try {
      parser.close();
    } catch (error) {
      if (record === undefined) reportGap(`the XML reader stopped (${(error as Error).message})`, 'INGEST_XML_SYNTAX');
    }
    if (broken !== undefined) emitBroken(bufferBase + buffer.length);
    if (record !== undefined) {
      const open = record;
      record = undefined;
      out.push(
        rejected(
          { ref, line: open.line, record: open.number },
          'INGEST_XML_SYNTAX',
          `the input ended inside this <${open.element}> (truncated?)`,
          slice(open.start, bufferBase + buffer.length).slice(0, RAW_PREFIX_CHARS),
        ),
      );
    }
  }
  if (out.length > 0) yield out.splice(0);

  function abandon(code: 'INGEST_XML_SYNTAX' | 'INGEST_RECORD_TOO_LARGE', reason: string): void {
    abandoned = true;
    if (record === undefined && broken !== undefined) record = broken;
    broken = undefined;
    const at = record === undefined ? { ref, line: parser.line, record: null } : { ref, line: record.line, record: record.number };
    out.push(rejected(at, code, reason, buffer.slice(0, RAW_PREFIX_CHARS)));
    record = undefined;
    buffer = '';
  }
}
