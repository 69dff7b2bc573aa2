import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';

export type TextEncoding = 'ascii' | 'utf8' | 'utf16le';

/** A text file written in large chunks, honouring backpressure; gzip when asked. */
export interface OutputFile {
  write(text: string): Promise<void>;
  close(): Promise<void>;
  /** Bytes handed to the file (before compression). */
  readonly bytes: number;
}

const FLUSH_CHARS = 1 << 20;

export function openOutputFile(path: string, options: { encoding: TextEncoding; gzip: boolean; bom?: boolean }): OutputFile {
  const file = createWriteStream(path);
  const gzip = options.gzip ? createGzip({ level: 6 }) : undefined;
  const sink: Writable = gzip ?? file;
  if (gzip !== undefined) gzip.pipe(file);
  const parts: string[] = [];
  let pendingChars = 0;
  let bytes = 0;
  let failure: Error | undefined;
  const onError = (error: Error): void => {
    failure ??= error;
  };
  file.on('error', onError);
  gzip?.on('error', onError);

  // Waits for 'drain', or fails with the file's error; both listeners go away either way.
  const drained = async (): Promise<void> => {
    const done = new AbortController();
    try {
      await Promise.race([
        once(sink, 'drain', { signal: done.signal }),
        once(file, 'error', { signal: done.signal }).then(([error]) => Promise.reject(error as Error)),
      ]);
    } finally {
      done.abort();
    }
  };
  const push = async (buffer: Buffer): Promise<void> => {
    if (failure !== undefined) throw failure;
    bytes += buffer.length;
    if (!sink.write(buffer)) await drained();
    if (failure !== undefined) throw failure;
  };
  const flush = async (): Promise<void> => {
    if (parts.length === 0) return;
    const text = parts.join('');
    parts.length = 0;
    pendingChars = 0;
    await push(Buffer.from(text, options.encoding === 'ascii' ? 'latin1' : options.encoding));
  };
  if (options.bom === true && options.encoding === 'utf16le') parts.push('\ufeff');

  return {
    get bytes() {
      return bytes + pendingChars;
    },
    async write(text) {
      parts.push(text);
      pendingChars += text.length;
      if (pendingChars >= FLUSH_CHARS) await flush();
    },
    async close() {
      await flush();
      const finished = once(file, 'close');
      sink.end();
      await finished;
      if (failure !== undefined) throw failure;
    },
  };
}
