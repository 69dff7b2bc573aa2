import { Writable } from 'node:stream';

/** A stream that keeps what is written to it: a command's stdout or stderr in a test. */
export function createTextSink(): Writable & { text(): string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  }) as Writable & { text(): string };
  stream.text = () => text;
  return stream;
}
