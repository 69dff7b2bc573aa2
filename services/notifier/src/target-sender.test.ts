import { describe, expect, it } from 'vitest';
import type { TargetConfig } from './config';
import type { HttpPost, HttpRequestSpec } from './http-client';
import type { HttpResponseInfo } from './http-response';
import type { Notification } from './notification';
import { signWebhookBody } from './payloads/webhook';
import { createTargetSender } from './target-sender';

const NOW = Date.parse('2024-06-12T09:30:00.000Z');
const notification = {
  schemaVersion: 1,
  action: 'trigger',
  dedupKey: 'calwatch/high-severity-finding/f-1',
  rule: 'high-severity-finding',
  seq: 3,
  at: '2024-06-12T09:30:00.000Z',
  since: '2024-06-12T09:00:00.000Z',
  title: 'Cloned image on LS01',
  severity: 'high',
  summary: 's',
  licenseServer: 'LS01',
  product: null,
  cals: 2,
  metrics: {},
  topOffenders: [],
  remediation: 'r',
  findingId: 'f-1',
  link: null,
} satisfies Notification;

function capture(response: HttpResponseInfo): { post: HttpPost; requests: HttpRequestSpec[] } {
  const requests: HttpRequestSpec[] = [];
  return {
    requests,
    post: async (request) => {
      requests.push(request);
      return response;
    },
  };
}

const target = (t: Record<string, unknown>): TargetConfig => ({ minSeverity: 'info', ...t }) as TargetConfig;

describe('target sender', () => {
  it('signs generic webhook bodies and sends the configured headers', async () => {
    const { post, requests } = capture({ status: 204, retryAfter: null, body: '' });
    const sender = createTargetSender(target({ name: 'hook', type: 'webhook', url: 'https://hooks.example/in', secret: 'a-very-long-secret-value', headers: { authorization: 'Bearer abc12345' } }), {
      post,
      defaultTimeoutMs: 1000,
      now: () => NOW,
    });
    await sender.send(notification, new AbortController().signal);
    const [request] = requests;
    expect(request?.headers).toMatchObject({
      authorization: 'Bearer abc12345',
      'x-calwatch-timestamp': String(NOW / 1000),
      'x-calwatch-signature': signWebhookBody(request!.body, 'a-very-long-secret-value', NOW / 1000),
      'x-calwatch-delivery': encodeURIComponent('calwatch/high-severity-finding/f-1#3'),
    });
  });

  it('puts the PagerDuty routing key in the body only', async () => {
    const { post, requests } = capture({ status: 202, retryAfter: null, body: '{"status":"success"}' });
    const sender = createTargetSender(target({ name: 'pd', type: 'pagerduty', url: 'https://events.pagerduty.com/v2/enqueue', routingKey: 'R0UTINGKEY01234567' }), { post, defaultTimeoutMs: 1000, now: () => NOW });
    await sender.send(notification, new AbortController().signal);
    expect(JSON.parse(requests[0]!.body)).toMatchObject({ routing_key: 'R0UTINGKEY01234567', event_action: 'trigger', dedup_key: 'calwatch/high-severity-finding/f-1' });
  });

  it('never lets a target echo its URL or key into an error', async () => {
    const url = 'https://hooks.slack.com/services/T000/B000/SECRETPATH123';
    const { post } = capture({ status: 400, retryAfter: null, body: `invalid_payload for ${url} and /services/T000/B000/SECRETPATH123` });
    const sender = createTargetSender(target({ name: 'slack', type: 'slack', url }), { post, defaultTimeoutMs: 1000, now: () => NOW });
    const error = (await sender.send(notification, new AbortController().signal).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'NOTIFIER_TARGET_REJECTED' });
    expect(error.message).not.toContain('SECRETPATH');
    expect(error.message).toContain('[redacted]');
  });
});
