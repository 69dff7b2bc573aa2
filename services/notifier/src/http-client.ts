import { NOTIFIER_ERRORS } from './errors';
import type { HttpResponseInfo } from './http-response';

export interface HttpRequestSpec {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** One POST, no retries: the dispatcher owns retrying. */
export type HttpPost = (request: HttpRequestSpec, options: { timeoutMs: number; signal?: AbortSignal; targetName: string }) => Promise<HttpResponseInfo>;

const MAX_BODY_CHARS = 2_000;

/**
 * POST with Node's fetch and a timeout. Failures become coded errors that name the target
 * only: fetch's own messages and causes can carry the URL, which is a secret for Slack,
 * Teams and many webhooks.
 */
export function createFetchPost(fetchImpl: typeof fetch = fetch): HttpPost {
  return async (request, options) => {
    if (isBlockedPort(request.url)) {
      // Fetch refuses these ports for good, whatever the server: retrying cannot help.
      throw NOTIFIER_ERRORS.create('NOTIFIER_TARGET_REJECTED', `target ${options.targetName}: the URL's port is blocked by fetch`, {
        context: { target: options.targetName },
      });
    }
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
    try {
      const response = await fetchImpl(request.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...request.headers },
        body: request.body,
        signal,
        redirect: 'error',
      });
      const text = await response.text();
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: text.slice(0, MAX_BODY_CHARS) };
    } catch (error) {
      if (options.signal?.aborted === true) throw options.signal.reason ?? error;
      if (timeout.aborted) {
        throw NOTIFIER_ERRORS.create('NOTIFIER_TARGET_TIMEOUT', `target ${options.targetName}: no answer within ${options.timeoutMs} ms`, {
          context: { target: options.targetName, timeoutMs: options.timeoutMs },
        });
      }
      const code = networkCode(error);
      throw NOTIFIER_ERRORS.create('NOTIFIER_TARGET_UNREACHABLE', `target ${options.targetName}: connection failed (${code})`, {
        context: { target: options.targetName, networkCode: code },
      });
    }
  };
}

/** The system error code (ECONNREFUSED, ENOTFOUND...) without the message around it. */
function networkCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return 'network error';
}

/**
 * The Fetch standard's "bad ports" (https://fetch.spec.whatwg.org/#bad-port), which fetch
 * refuses with a message only: checked here first so the decision rests on the URL.
 */
const BLOCKED_PORTS: ReadonlySet<number> = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117, 119, 123,
  135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995,
  1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

export function isBlockedPort(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  return parsed.port !== '' && BLOCKED_PORTS.has(Number(parsed.port));
}
