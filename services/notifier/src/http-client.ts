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
      if (error instanceof Error && error.cause instanceof Error && error.cause.message === 'bad port') {
        // The Fetch standard blocks some ports for good (e.g. 1, 25, 6000): retrying cannot help.
        throw NOTIFIER_ERRORS.create('NOTIFIER_TARGET_REJECTED', `target ${options.targetName}: the URL's port is blocked by fetch`, {
          context: { target: options.targetName },
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
