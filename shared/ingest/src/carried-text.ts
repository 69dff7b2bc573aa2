/** How much of a rejected record's text is kept for its dead letter. */
export const RAW_PREFIX_CHARS = 4096;

/**
 * The text of the current record carried over from earlier chunks: kept whole up to
 * `maxChars`, past that only its first RAW_PREFIX_CHARS characters (for the dead letter),
 * so memory stays bounded whatever the input.
 */
export class CarriedText {
  text = '';
  tooLarge = false;
  private chars = 0;

  constructor(private readonly maxChars: number) {}

  /** Appends `rest`; true when this append took the record past `maxChars`. */
  add(rest: string): boolean {
    this.chars += rest.length;
    if (this.tooLarge) return false;
    this.text += rest;
    if (this.chars <= this.maxChars) return false;
    this.tooLarge = true;
    this.text = this.text.slice(0, RAW_PREFIX_CHARS);
    return true;
  }

  clear(): void {
    this.text = '';
    this.chars = 0;
    this.tooLarge = false;
  }
}
