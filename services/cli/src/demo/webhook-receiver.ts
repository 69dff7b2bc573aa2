import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the demo shows of a page: the generic webhook body's main fields. */
export interface ReceivedPage {
  action: string;
  rule: string;
  severity: string;
  title: string;
  licenseServer: string;
  cals: number | null;
  /** The incident the page is about (the same on its trigger, updates and resolve). */
  dedupKey: string;
}

export interface WebhookReceiver {
  readonly url: string;
  /** Pages received so far. */
  count(): number;
  close(): Promise<void>;
}

/** Reads the fields the demo prints; tolerant, since anything may post to the port. */
export function readPage(body: string): ReceivedPage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (json === null || typeof json !== 'object') return undefined;
  const o = json as Record<string, unknown>;
  const text = (key: string): string => (typeof o[key] === 'string' ? (o[key] as string) : '?');
  return {
    action: text('action'),
    rule: text('rule'),
    severity: text('severity'),
    title: text('title'),
    licenseServer: text('licenseServer'),
    dedupKey: text('dedupKey'),
    cals: typeof o['cals'] === 'number' ? (o['cals'] as number) : null,
  };
}

export function formatPage(page: ReceivedPage): string {
  return `PAGE ${page.action.toUpperCase()} [${page.severity}] ${page.rule}: ${page.title}${page.cals === null ? '' : ` (${page.cals} CALs)`}`;
}

/**
 * A local stand-in for an on-call webhook: listens on 127.0.0.1 (a free port), answers
 * 200 to every POST and hands the page to `onPage`.
 */
export async function startWebhookReceiver(onPage: (page: ReceivedPage) => void): Promise<WebhookReceiver> {
  let received = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST') {
        response.writeHead(405).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      const page = readPage(Buffer.concat(chunks).toString('utf8'));
      if (page === undefined) return;
      received += 1;
      onPage(page);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/calwatch`,
    count: () => received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
