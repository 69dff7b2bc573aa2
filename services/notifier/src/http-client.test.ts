import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFetchPost, isBlockedPort } from './http-client';

let server: Server;
let base: string;
const seen: Array<{ path: string; body: string; headers: Record<string, string | string[] | undefined> }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', body, headers: req.headers });
      if (req.url?.startsWith('/slow')) setTimeout(() => res.writeHead(200).end('late'), 500);
      else if (req.url?.startsWith('/limited')) res.writeHead(429, { 'retry-after': '2' }).end();
      else res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('createFetchPost', () => {
  const post = createFetchPost();

  it('posts JSON with the given headers and reports status, Retry-After and body', async () => {
    const ok = await post({ url: `${base}/hook/SECRET`, headers: { 'x-extra': '1' }, body: '{"a":1}' }, { timeoutMs: 2_000, targetName: 't' });
    expect(ok).toEqual({ status: 200, retryAfter: null, body: 'ok' });
    expect(seen.at(-1)).toMatchObject({ path: '/hook/SECRET', body: '{"a":1}', headers: { 'content-type': 'application/json', 'x-extra': '1' } });
    const limited = await post({ url: `${base}/limited`, headers: {}, body: '{}' }, { timeoutMs: 2_000, targetName: 't' });
    expect(limited).toMatchObject({ status: 429, retryAfter: '2' });
  });

  it('a slow target times out with a coded, retriable error that names the target, not the URL', async () => {
    const error = await post({ url: `${base}/slow/SECRET-TOKEN`, headers: {}, body: '{}' }, { timeoutMs: 100, targetName: 'teams-ops' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NOTIFIER_TARGET_TIMEOUT', retriable: true, message: 'target teams-ops: no answer within 100 ms' });
    expect(JSON.stringify(error)).not.toContain('SECRET-TOKEN');
  });

  it('a refused connection is a coded, retriable error without the URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = (await post({ url: `http://127.0.0.1:${port}/SECRET-TOKEN`, headers: {}, body: '{}' }, { timeoutMs: 2_000, targetName: 'hook' }).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'NOTIFIER_TARGET_UNREACHABLE', retriable: true, message: 'target hook: connection failed (ECONNREFUSED)' });
    expect(error.cause).toBeUndefined();
  });

  it('a port fetch blocks for good is refused before any request, as not retriable', async () => {
    let calls = 0;
    const counting = createFetchPost(async (...args) => {
      calls++;
      return fetch(...args);
    });
    const error = await counting({ url: 'http://127.0.0.1:6000/SECRET-TOKEN', headers: {}, body: '{}' }, { timeoutMs: 2_000, targetName: 'x11' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NOTIFIER_TARGET_REJECTED', retriable: false, message: "target x11: the URL's port is blocked by fetch" });
    expect(calls).toBe(0);
  });

  it('fetch itself refuses every port the list calls blocked, and no other', async () => {
    for (const port of [25, 6000, 10080]) {
      expect(isBlockedPort(`http://127.0.0.1:${port}/`)).toBe(true);
      await expect(fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: '{}' })).rejects.toMatchObject({ cause: { message: 'bad port' } });
    }
    expect(isBlockedPort(`${base}/hook`)).toBe(false);
    expect(isBlockedPort('https://hooks.example.com/x')).toBe(false);
    expect(isBlockedPort('https://hooks.example.com:8443/x')).toBe(false);
  });
});
