import { CarriedText, RAW_PREFIX_CHARS } from './carried-text';

/**
 * Splits a stream of JSON text into top-level records without parsing it: the elements
 * of a top-level array (`ConvertTo-Json` of a collection), or top-level values one after
 * another (a single object, or objects separated by whitespace / commas). Each record's
 * text is then parsed on its own, so one bad element does not lose the rest. Memory is
 * bounded by `maxRecordChars`; nesting deeper than `maxDepth` is flagged, not followed.
 */
export interface JsonRecordText {
  text: string;
  /** 1-based line where the record starts. */
  line: number;
  error: { code: 'INGEST_JSON_SYNTAX' | 'INGEST_JSON_TOO_DEEP' | 'INGEST_RECORD_TOO_LARGE'; message: string } | null;
}

type Kind = 'container' | 'string' | 'scalar';

export class JsonSplitter {
  private inArray = false;
  private kind: Kind | null = null;
  private depth = 0;
  private maxSeenDepth = 0;
  private inString = false;
  private escape = false;
  private readonly carried: CarriedText;
  private line = 1;
  private recordLine = 1;
  private unclosedArrayLine = 0;

  constructor(
    private readonly maxRecordChars = 1 << 20,
    private readonly maxDepth = 64,
  ) {
    this.carried = new CarriedText(maxRecordChars);
  }

  push(text: string, out: JsonRecordText[]): void {
    const n = text.length;
    let segStart = 0;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (this.kind === null) {
        if (c === 10) this.line += 1;
        if (c === 32 || c === 9 || c === 10 || c === 13 || c === 44 /* , */ || c === 0xfeff) {
          i += 1;
          continue;
        }
        if (c === 91 /* [ */ && !this.inArray) {
          this.inArray = true;
          this.unclosedArrayLine = this.line;
          i += 1;
          continue;
        }
        if (c === 93 /* ] */ && this.inArray) {
          this.inArray = false;
          i += 1;
          continue;
        }
        this.recordLine = this.line;
        segStart = i;
        if (c === 123 || c === 91) {
          this.kind = 'container';
          this.depth = 1;
          this.maxSeenDepth = 1;
        } else if (c === 34) {
          this.kind = 'string';
        } else if (c === 125 || c === 93) {
          // A stray closer is a record of its own, so reading always moves on.
          out.push({ text: text[i]!, line: this.line, error: null });
          i += 1;
          continue;
        } else {
          this.kind = 'scalar';
        }
        i += 1;
        continue;
      }
      if (this.kind === 'scalar') {
        if (c === 44 || c === 93 || c === 125 || c === 123 || c === 91 || c === 32 || c === 9 || c === 10 || c === 13) {
          this.finish(text.slice(segStart, i), null, out);
          segStart = i;
          continue; // the delimiter is read again outside the record
        }
        i += 1;
        continue;
      }
      if (c === 10) this.line += 1;
      if (this.inString || this.kind === 'string') {
        if (this.escape) {
          this.escape = false;
        } else if (c === 92 /* \ */) {
          this.escape = true;
        } else if (c === 34) {
          if (this.kind === 'string') {
            i += 1;
            this.finish(text.slice(segStart, i), null, out);
            segStart = i;
            continue;
          }
          this.inString = false;
        }
        i += 1;
        continue;
      }
      if (c === 34) {
        this.inString = true;
      } else if (c === 123 || c === 91) {
        this.depth += 1;
        if (this.depth > this.maxSeenDepth) this.maxSeenDepth = this.depth;
      } else if (c === 125 || c === 93) {
        this.depth -= 1;
        if (this.depth === 0) {
          i += 1;
          this.finish(text.slice(segStart, i), null, out);
          segStart = i;
          continue;
        }
      }
      i += 1;
    }
    if (this.kind !== null && segStart < n) this.carried.add(text.slice(segStart));
  }

  end(out: JsonRecordText[]): void {
    if (this.kind === 'scalar') {
      this.finish('', null, out);
    } else if (this.kind !== null) {
      this.finish('', { code: 'INGEST_JSON_SYNTAX', message: 'the input ended inside this JSON value (truncated?)' }, out);
    }
    if (this.inArray) {
      out.push({
        text: '',
        line: this.unclosedArrayLine,
        error: {
          code: 'INGEST_JSON_SYNTAX',
          message: 'the input ended before the closing ] of the top-level array opened here (truncated?); the snapshot may be incomplete',
        },
      });
      this.inArray = false;
    }
  }

  private finish(tail: string, error: JsonRecordText['error'], out: JsonRecordText[]): void {
    const text = this.carried.tooLarge ? this.carried.text : this.carried.text + tail;
    let problem = error;
    if (problem === null && this.carried.tooLarge) {
      problem = { code: 'INGEST_RECORD_TOO_LARGE', message: `the JSON value is longer than ${this.maxRecordChars} characters` };
    }
    if (problem === null && this.maxSeenDepth > this.maxDepth) {
      problem = { code: 'INGEST_JSON_TOO_DEEP', message: `the JSON value nests ${this.maxSeenDepth} levels deep; at most ${this.maxDepth} are read` };
    }
    out.push({ text: problem === null ? text : text.slice(0, RAW_PREFIX_CHARS), line: this.recordLine, error: problem });
    this.kind = null;
    this.depth = 0;
    this.maxSeenDepth = 0;
    this.inString = false;
    this.escape = false;
    this.carried.clear();
  }
}
