import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { createSilentLogger } from '@calwatch/runtime';
import { createTestCa, type TestCa, type TestCertificate } from '../../../test/harness/tls-certificates';
import { loadCollectorConfig } from './config';
import { buildHttpsServerOptions, createTlsReloader, readTlsFiles } from './tls-files';

let dir: string;
let ca: TestCa;
let first: TestCertificate;
let second: TestCertificate;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'calwatch-collector-tls-'));
  ca = await createTestCa(join(dir, 'ca'));
  first = await ca.issue('collector-1');
  second = await ca.issue('collector-2');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The subject of the certificate a new connection to the server is shown. */
function peerSubject(server: Server): Promise<string> {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: address.port, ca: [readFileSync(ca.caFile)], servername: 'localhost' }, () => {
      const peer: PeerCertificate = socket.getPeerCertificate();
      socket.end();
      resolve(peer.subject.CN as string);
    });
    socket.on('error', reject);
  });
}

describe('collector TLS files', () => {
  it('refuses a key that does not belong to the certificate', async () => {
    const error = await readTlsFiles({ certFile: first.certFile, keyFile: second.keyFile }).catch((e: unknown) => e);
    expect(isCalwatchError(error, 'COLLECTOR_TLS_FILES_UNREADABLE')).toBe(true);
  });

  it('serves a renewed certificate to new connections without a restart, and keeps the old one when the new files are broken', async () => {
    const live = join(dir, 'live');
    await mkdir(live, { recursive: true });
    const paths = { certFile: join(live, 'tls.crt'), keyFile: join(live, 'tls.key') };
    await copyFile(first.certFile, paths.certFile);
    await copyFile(first.keyFile, paths.keyFile);
    let server: Server | undefined;
    const reloader = createTlsReloader({ paths, apply: (context) => server?.setSecureContext(context), logger: createSilentLogger(), pollMs: 60_000 });
    server = createServer(buildHttpsServerOptions(await reloader.load(), paths), (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    try {
      expect(await peerSubject(server)).toBe('collector-1');

      await copyFile(second.certFile, paths.certFile);
      await copyFile(second.keyFile, paths.keyFile);
      await reloader.check();
      expect(await peerSubject(server)).toBe('collector-2');

      // A half-written renewal: the certificate changed, the key is not its key.
      await copyFile(first.certFile, paths.certFile);
      await reloader.check();
      expect(await peerSubject(server)).toBe('collector-2');
    } finally {
      reloader.close();
      await new Promise((resolve) => server!.close(resolve));
    }
  });

  it('config needs both certificate and key, and a client CA only with HTTPS', () => {
    const base = { COLLECTOR_TOKENS: 'a-token-of-sixteen-chars' };
    expect(() => loadCollectorConfig({ ...base, COLLECTOR_TLS_CERT_FILE: '/etc/tls.crt' })).toThrow(/COLLECTOR_TLS_KEY_FILE/);
    expect(() => loadCollectorConfig({ ...base, COLLECTOR_TLS_CA_FILE: '/etc/ca.pem' })).toThrow(/COLLECTOR_TLS_CA_FILE/);
    expect(loadCollectorConfig({ ...base, COLLECTOR_TLS_CERT_FILE: '/etc/tls.crt', COLLECTOR_TLS_KEY_FILE: '/etc/tls.key' }).tls.reloadPollMs).toBe(60_000);
  });

  it('asks for client certificates only when a client CA is set', () => {
    expect(buildHttpsServerOptions({}, { certFile: 'c', keyFile: 'k' })).toMatchObject({ requestCert: false, rejectUnauthorized: false });
    expect(buildHttpsServerOptions({}, { certFile: 'c', keyFile: 'k', caFile: 'ca' })).toMatchObject({ requestCert: true, rejectUnauthorized: true });
  });
});
