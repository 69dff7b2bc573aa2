import { readFile } from 'node:fs/promises';
import { request as httpRequestRaw } from 'node:http';
import { request as httpsRequestRaw } from 'node:https';

export interface HttpResponse {
  status: number;
  body: string;
}

/**
 * One HTTP(S) request with its whole answer. Over https it trusts `caFile` only when given
 * (fetch cannot be handed a CA), and presents `client` when the server wants a certificate.
 */
export async function httpRequest(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    caFile?: string;
    client?: { certFile: string; keyFile: string };
    timeoutMs?: number;
  } = {},
): Promise<HttpResponse> {
  const method = options.method ?? 'GET';
  const tls = {
    ...(options.caFile === undefined ? {} : { ca: await readFile(options.caFile) }),
    ...(options.client === undefined ? {} : { cert: await readFile(options.client.certFile), key: await readFile(options.client.keyFile) }),
  };
  const timeoutMs = options.timeoutMs ?? 10_000;
  const send = new URL(url).protocol === 'https:' ? httpsRequestRaw : httpRequestRaw;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers: options.headers, ...tls, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${method} ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
