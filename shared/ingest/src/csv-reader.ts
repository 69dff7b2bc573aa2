import { CarriedText, RAW_PREFIX_CHARS } from './carried-text';

/**
 * A streaming RFC 4180 reader: quoted fields may hold commas, doubled quotes and line
 * breaks; records end at CRLF, LF or CR. A malformed record is reported (not thrown)
 * and reading resumes at the next line. Memory is bounded by `maxRecordChars`: a longer
 * record is reported with the first part of its text, and a runaway quoted field (an
 * unterminated quote) is cut at the next line break once it passes the limit.
 */
export interface CsvRecord {
  fields: string[];
  /** 1-based line where the record starts. */
  line: number;
  /** The record's text without its line terminator (a prefix when `error` says it was too large). */
  raw: string;
  /** Why the record is malformed, or null. */
  error: string | null;
}

type State = 'fieldStart' | 'unquoted' | 'quoted' | 'quoteInQuoted' | 'skipLine';

const UNQUOTED_STOP = /[,\r\n"]/g;
const LINE_END = /[\r\n]/g;

export class CsvReader {
  private state: State = 'fieldStart';
  private fields: string[] = [];
  private field = '';
  /** Text of the current record carried over from earlier chunks. */
  private readonly carried: CarriedText;
  private started = false;
  private line = 1;
  private recordLine = 1;
  private skipLf = false;
  private error: string | null = null;
  /** First LF at or after the reading position in the current chunk (-1: not looked for yet). */
  private nextLf = -1;

  constructor(private readonly maxRecordChars = 1 << 20) {
    this.carried = new CarriedText(maxRecordChars);
  }

  /** Feeds a chunk of text; complete records are appended to `out`. */
  push(text: string, out: CsvRecord[]): void {
    let i = 0;
    let segStart = 0;
    const n = text.length;
    this.nextLf = -1;
    if (this.skipLf && n > 0) {
      this.skipLf = false;
      if (text.charCodeAt(0) === 10) {
        i = 1;
        segStart = 1;
      }
    }
    while (i < n) {
      const c = text.charCodeAt(i);
      switch (this.state) {
        case 'fieldStart': {
          if (!this.started) {
            this.started = true;
            this.recordLine = this.line;
            segStart = i;
          }
          if (c === 34 /* " */) {
            this.state = 'quoted';
            i += 1;
          } else if (c === 44 /* , */) {
            this.pushField('');
            i += 1;
          } else if (c === 13 || c === 10) {
            i = this.endRecord(text, segStart, i, out);
            segStart = i;
          } else {
            this.state = 'unquoted';
          }
          break;
        }
        case 'unquoted': {
          UNQUOTED_STOP.lastIndex = i;
          const m = UNQUOTED_STOP.exec(text);
          const stop = m === null ? n : m.index;
          this.appendField(text, i, stop);
          i = stop;
          if (i >= n) break;
          const s = text.charCodeAt(i);
          if (s === 44) {
            this.pushField(this.field);
            this.state = 'fieldStart';
            i += 1;
          } else if (s === 34) {
            this.fail(`a quote inside an unquoted field (field ${this.fields.length + 1})`);
          } else {
            i = this.endRecord(text, segStart, i, out);
            segStart = i;
          }
          break;
        }
        case 'quoted': {
          const q = text.indexOf('"', i);
          const stop = q < 0 ? n : q;
          this.countLines(text, i, stop);
          this.appendField(text, i, stop);
          i = stop;
          if (q >= 0) {
            this.state = 'quoteInQuoted';
            i += 1;
          }
          break;
        }
        case 'quoteInQuoted': {
          if (c === 34) {
            this.field += '"';
            this.state = 'quoted';
            i += 1;
          } else if (c === 44) {
            this.pushField(this.field);
            this.state = 'fieldStart';
            i += 1;
          } else if (c === 13 || c === 10) {
            i = this.endRecord(text, segStart, i, out);
            segStart = i;
          } else {
            this.fail(`unexpected character ${JSON.stringify(text[i])} after the closing quote of field ${this.fields.length + 1}`);
          }
          break;
        }
        case 'skipLine': {
          LINE_END.lastIndex = i;
          const m = LINE_END.exec(text);
          if (m === null) {
            i = n;
          } else {
            i = this.endRecord(text, segStart, m.index, out);
            segStart = i;
          }
          break;
        }
      }
    }
    if (this.started && segStart < n) this.carry(text.slice(segStart));
  }

  /** Ends the input: a record without a final line break is still a record. */
  end(out: CsvRecord[]): void {
    if (!this.started) return;
    if (this.state === 'quoted') this.fail('the input ended inside a quoted field (unterminated quote)');
    if (this.state !== 'skipLine' && !this.carried.tooLarge) this.pushField(this.field);
    this.emit(this.carried.text, out);
  }

  private endRecord(text: string, segStart: number, at: number, out: CsvRecord[]): number {
    const raw = this.carried.text + text.slice(segStart, at);
    const blank = this.state === 'fieldStart' && this.fields.length === 0 && raw.length === 0;
    if (this.state !== 'skipLine' && !this.carried.tooLarge) this.pushField(this.field);
    this.line += 1;
    let next = at + 1;
    if (text.charCodeAt(at) === 13) {
      if (at + 1 < text.length) {
        if (text.charCodeAt(at + 1) === 10) next += 1;
      } else {
        this.skipLf = true;
      }
    }
    if (!blank) this.emit(raw, out);
    else this.reset();
    return next;
  }

  private emit(raw: string, out: CsvRecord[]): void {
    out.push({
      fields: this.error === null ? this.fields : [],
      line: this.recordLine,
      raw: this.carried.tooLarge ? raw.slice(0, RAW_PREFIX_CHARS) : raw,
      error: this.error,
    });
    this.reset();
  }

  private reset(): void {
    this.state = 'fieldStart';
    this.fields = [];
    this.field = '';
    this.carried.clear();
    this.started = false;
    this.error = null;
  }

  private pushField(value: string): void {
    this.fields.push(value);
    this.field = '';
  }

  private appendField(text: string, from: number, to: number): void {
    if (to > from && !this.carried.tooLarge) this.field += text.slice(from, to);
  }

  private fail(message: string): void {
    if (this.error === null) this.error = message;
    this.state = 'skipLine';
    this.fields = [];
    this.field = '';
  }

  private carry(rest: string): void {
    if (!this.carried.add(rest)) return;
    if (this.error === null) this.error = `the record is longer than ${this.maxRecordChars} characters`;
    // An unterminated quote would otherwise swallow the rest of the input.
    this.state = 'skipLine';
    this.fields = [];
    this.field = '';
  }

  /**
   * Counts the LFs inside a quoted field. The next LF of the chunk is remembered: looking it up
   * per field scanned to the end of the row for each of its ~30 fields.
   */
  private countLines(text: string, from: number, to: number): void {
    if (this.nextLf < from) this.nextLf = lfAtOrAfter(text, from);
    while (this.nextLf < to) {
      this.line += 1;
      this.nextLf = lfAtOrAfter(text, this.nextLf + 1);
    }
  }
}

function lfAtOrAfter(text: string, from: number): number {
  const at = text.indexOf('\n', from);
  return at < 0 ? text.length : at;
}
