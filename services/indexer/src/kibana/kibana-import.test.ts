import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { importSavedObjects } from './kibana-import';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A stand-in for Kibana's import endpoint: answers what the test queues, records what it got. */
let server: Server;
let base: string;
const seen: Seen[] = [];
const answers: Array<{ status: number; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = answers.shift() ?? { status: 200, body: '{"success":true,"successCount":0}' };
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('importSavedObjects', () => {
  it('posts the NDJSON as a multipart file with overwrite, xsrf header and basic auth', async () => {
    answers.push({ status: 200, body: '{"success":true,"successCount":2}' });
    const ndjson = '{"type":"index-pattern","id":"a","attributes":{}}\n{"type":"dashboard","id":"b","attributes":{}}\n';
    const result = await importSavedObjects({ url: `${base}/kbn/`, auth: { username: 'elastic', password: 'pw' } }, ndjson);
    expect(result.successCount).toBe(2);
    const request = seen.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/kbn/api/saved_objects/_import?overwrite=true');
    expect(request.headers['kbn-xsrf']).toBeTruthy();
    expect(request.headers['authorization']).toBe(`Basic ${Buffer.from('elastic:pw').toString('base64')}`);
    expect(request.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(request.body).toContain('name="file"; filename="calwatch-saved-objects.ndjson"');
    expect(request.body).toContain(ndjson);
  });

  it('imports into a space with an API key', async () => {
    await importSavedObjects({ url: base, auth: { apiKey: 'a2V5' }, space: 'soc' }, '{}\n');
    const request = seen.at(-1)!;
    expect(request.url).toBe('/s/soc/api/saved_objects/_import?overwrite=true');
    expect(request.headers['authorization']).toBe('ApiKey a2V5');
  });

  it('reports objects Kibana could not import', async () => {
    answers.push({
      status: 200,
      body: JSON.stringify({ success: false, successCount: 1, errors: [{ type: 'dashboard', id: 'b', error: { type: 'missing_references' } }] }),
    });
    const error = await importSavedObjects({ url: base }, '{}\n').catch((e: unknown) => e);
    expect(isCalwatchError(error, 'INDEXER_KIBANA_IMPORT_FAILED')).toBe(true);
    expect((error as Error).message).toContain('dashboard/b: missing_references');
  });

  it('reports HTTP errors and unreachable Kibana', async () => {
    answers.push({ status: 401, body: '{"statusCode":401,"error":"Unauthorized"}' });
    const unauthorized = await importSavedObjects({ url: base }, '{}\n').catch((e: unknown) => e);
    expect(isCalwatchError(unauthorized, 'INDEXER_KIBANA_IMPORT_FAILED')).toBe(true);
    expect((unauthorized as Error).message).toContain('401');
    const unreachable = await importSavedObjects({ url: 'http://127.0.0.1:1' }, '{}\n').catch((e: unknown) => e);
    expect(isCalwatchError(unreachable, 'INDEXER_KIBANA_IMPORT_FAILED')).toBe(true);
  });
});
