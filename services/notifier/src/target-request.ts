import type { TargetConfig } from './config';
import type { HttpRequestSpec } from './http-client';
import type { Notification } from './notification';
import { buildPagerDutyEvent, pagerDutyChangeUrl } from './payloads/pagerduty';
import { buildSlackMessage } from './payloads/slack';
import { buildTeamsMessage } from './payloads/teams';
import { buildWebhookBody, signWebhookBody } from './payloads/webhook';

/** The HTTP request a target gets for a notification (pure; the URL and keys stay in here). */
export function buildTargetRequest(target: TargetConfig, n: Notification, nowMs: number): HttpRequestSpec {
  switch (target.type) {
    case 'slack':
      return { url: target.url, headers: {}, body: JSON.stringify(buildSlackMessage(n)) };
    case 'teams':
      return { url: target.url, headers: {}, body: JSON.stringify(buildTeamsMessage(n)) };
    case 'pagerduty':
      return {
        url: n.action === 'digest' ? pagerDutyChangeUrl(target.url) : target.url,
        headers: {},
        body: JSON.stringify(buildPagerDutyEvent(n, target.routingKey)),
      };
    case 'webhook': {
      const body = JSON.stringify(buildWebhookBody(n));
      const headers: Record<string, string> = { ...target.headers, 'x-calwatch-delivery': encodeURIComponent(`${n.dedupKey}#${n.seq}`) };
      if (target.secret !== undefined) {
        const timestamp = Math.floor(nowMs / 1000);
        headers['x-calwatch-timestamp'] = String(timestamp);
        headers['x-calwatch-signature'] = signWebhookBody(body, target.secret, timestamp);
      }
      return { url: target.url, headers, body };
    }
  }
}
