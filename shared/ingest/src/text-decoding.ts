/**
 * Byte → text. PowerShell writes ASCII (5.1 Export-Csv), UTF-8 with or without BOM,
 * UTF-16LE with BOM (5.1 `Out-File`, `-Encoding Unicode`) and, rarely, UTF-16BE; ANSI
 * exports (`-Encoding Default`) are read as windows-1252 when the head is not UTF-8.
 */
import { TextDecoder } from 'node:util';

export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export interface EncodingGuess {
  encoding: TextEncoding;
  /** Bytes of byte-order mark at the start (skipped by the decoder). */
  bomLength: number;
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];

export function sniffEncoding(head: Uint8Array): EncodingGuess {
  if (head[0] === UTF8_BOM[0] && head[1] === UTF8_BOM[1] && head[2] === UTF8_BOM[2]) {
    return { encoding: 'utf-8', bomLength: 3 };
  }
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bomLength: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', bomLength: 2 };
  // Without a BOM, UTF-16 of ASCII text shows as a zero in every other byte.
  const sample = head.subarray(0, Math.min(head.length, 512));
  let zeroEven = 0;
  let zeroOdd = 0;
  for (let i = 0; i < sample.length; i += 1) {
    if (sample[i] === 0) {
      if (i % 2 === 0) zeroEven += 1;
      else zeroOdd += 1;
    }
  }
  const pairs = Math.floor(sample.length / 2);
  if (pairs >= 2 && zeroOdd >= pairs * 0.4 && zeroEven === 0) return { encoding: 'utf-16le', bomLength: 0 };
  if (pairs >= 2 && zeroEven >= pairs * 0.4 && zeroOdd === 0) return { encoding: 'utf-16be', bomLength: 0 };
  // ANSI text is told apart from UTF-8 on the whole head: accents may come late.
  return { encoding: isUtf8(head) ? 'utf-8' : 'windows-1252', bomLength: 0 };
}

/** True when the bytes are valid UTF-8, allowing a multi-byte sequence cut at the end. */
function isUtf8(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const extra = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (extra < 0) return false;
    for (let k = 1; k <= extra; k += 1) {
      if (i + k >= bytes.length) return true;
      const c = bytes[i + k]!;
      if (c < 0x80 || c > 0xbf) return false;
    }
    i += extra + 1;
  }
  return true;
}

/** A streaming decoder; invalid sequences become U+FFFD rather than failing the input. */
export function createTextDecoder(encoding: TextEncoding): TextDecoder {
  // The BOM is left to the decoder: it strips a leading one for the UTF encodings.
  return new TextDecoder(encoding, { fatal: false });
}

/** Decodes a head sample for sniffing (a cut multi-byte sequence at its end is dropped). */
export function decodeHead(head: Uint8Array): string {
  const { encoding } = sniffEncoding(head);
  return createTextDecoder(encoding).decode(head, { stream: true });
}
