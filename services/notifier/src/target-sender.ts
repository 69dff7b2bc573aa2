import type { TargetConfig } from './config';
import type { HttpPost } from './http-client';
import { classifyResponse } from './http-response';
import type { Notification } from './notification';
import { buildTargetRequest } from './target-request';

/** One delivery attempt to one target; throws a coded error the retrier can judge. */
export interface TargetSender {
  name: string;
  type: TargetConfig['type'];
  send(notification: Notification, signal: AbortSignal): Promise<void>;
}

export interface TargetSenderDeps {
  post: HttpPost;
  defaultTimeoutMs: number;
  now: () => number;
}

/** Every secret a target holds: none of them may appear in an error text. */
function secretsOf(target: TargetConfig): string[] {
  const url = new URL(target.url);
  // Slack and Teams put the secret in the path; a body may echo the path alone.
  const secrets = [target.url, `${url.pathname}${url.search}`];
  if (target.type === 'pagerduty') secrets.push(target.routingKey);
  if (target.type === 'webhook') {
    if (target.secret !== undefined) secrets.push(target.secret);
    for (const value of Object.values(target.headers)) secrets.push(value);
  }
  return secrets.filter((s) => s.length >= 8).sort((a, b) => b.length - a.length);
}

export function createTargetSender(target: TargetConfig, deps: TargetSenderDeps): TargetSender {
  const timeoutMs = target.timeoutMs ?? deps.defaultTimeoutMs;
  const secrets = secretsOf(target);
  // A target may echo what it was sent (URL, key) in an error body.
  const scrub = (text: string): string => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  return {
    name: target.name,
    type: target.type,
    async send(notification, signal) {
      const request = buildTargetRequest(target, notification, deps.now());
      const response = await deps.post(request, { timeoutMs, signal, targetName: target.name });
      const error = classifyResponse(target, { ...response, body: scrub(response.body) }, deps.now());
      if (error !== undefined) throw error;
    },
  };
}
