import { RAW_PREFIX_CHARS } from './carried-text';

/**
 * Splits text into lines (LF or CRLF) for NDJSON, with the 1-based line number. A line
 * longer than `maxLineChars` is reported with its first characters only, so memory stays
 * bounded whatever the input. Blank lines are skipped.
 */
export interface TextLine {
  text: string;
  line: number;
  tooLarge: boolean;
}

export class LineSplitter {
  private carried = '';
  private carriedChars = 0;
  private line = 1;

  constructor(private readonly maxLineChars = 1 << 20) {}

  push(text: string, out: TextLine[]): void {
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      this.emit(text.slice(start, nl), out);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length) {
      const rest = text.slice(start);
      this.carriedChars += rest.length;
      if (this.carried.length < RAW_PREFIX_CHARS || this.carriedChars <= this.maxLineChars) {
        this.carried += rest;
        if (this.carriedChars > this.maxLineChars) this.carried = this.carried.slice(0, RAW_PREFIX_CHARS);
      }
    }
  }

  end(out: TextLine[]): void {
    if (this.carriedChars > 0) this.emit('', out);
  }

  private emit(tail: string, out: TextLine[]): void {
    const size = this.carriedChars + tail.length;
    const tooLarge = size > this.maxLineChars;
    let text = tooLarge ? (this.carried + tail.slice(0, RAW_PREFIX_CHARS)).slice(0, RAW_PREFIX_CHARS) : this.carried + tail;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (tooLarge || text.trim() !== '') out.push({ text, line: this.line, tooLarge });
    this.line += 1;
    this.carried = '';
    this.carriedChars = 0;
  }
}
