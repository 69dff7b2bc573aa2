import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { openOutputFile } from './output-file';

const root = await mkdtemp(join(tmpdir(), 'calwatch-out-'));
afterAll(() => rm(root, { recursive: true, force: true }));

describe('openOutputFile', () => {
  it.each([false, true])('writes large text through backpressure without leaking listeners (gzip %s)', async (gzip) => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      const path = join(root, `big-${gzip}.txt`);
      const file = openOutputFile(path, { encoding: 'utf8', gzip });
      const line = 'x'.repeat(1023) + '\n';
      const chunk = line.repeat(1024);
      for (let i = 0; i < 24; i += 1) await file.write(chunk);
      await file.close();
      const bytes = await readFile(path);
      const text = (gzip ? gunzipSync(bytes) : bytes).toString('utf8');
      expect(text.length).toBe(24 * chunk.length);
      expect(file.bytes).toBe(24 * chunk.length);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => w.name)).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('writes UTF-16LE with a byte order mark, as Windows PowerShell Out-File does', async () => {
    const path = join(root, 'utf16.json');
    const file = openOutputFile(path, { encoding: 'utf16le', gzip: false, bom: true });
    await file.write('{"a":  1}\r\n');
    await file.close();
    const bytes = await readFile(path);
    expect([...bytes.subarray(0, 4)]).toEqual([0xff, 0xfe, 0x7b, 0x00]);
    expect(bytes.subarray(2).toString('utf16le')).toBe('{"a":  1}\r\n');
  });

  it('fails instead of hanging when the file cannot be written', async () => {
    const file = openOutputFile(join(root, 'missing-dir', 'x.txt'), { encoding: 'utf8', gzip: false });
    await expect(
      (async () => {
        await file.write('y'.repeat(2 << 20));
        await file.close();
      })(),
    ).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
