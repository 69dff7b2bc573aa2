import type { Severity } from '@calwatch/model';
import type { Notification } from '../notification';
import { factsOf, truncate } from './text';

/** Events API v2 limits and values (developer.pagerduty.com, "Send an Alert Event"). */
export const PAGERDUTY_LIMITS = { summary: 1024, dedupKey: 255 };

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

const SEVERITY: Readonly<Record<Severity, PagerDutySeverity>> = {
  info: 'info',
  low: 'warning',
  medium: 'warning',
  high: 'error',
  critical: 'critical',
};

export interface PagerDutyTriggerEvent {
  routing_key: string;
  event_action: 'trigger';
  dedup_key: string;
  payload: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp: string;
    component?: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  links: Array<{ href: string; text: string }>;
  client: string;
  client_url?: string;
}

export interface PagerDutyResolveEvent {
  routing_key: string;
  event_action: 'resolve';
  dedup_key: string;
}

/** A change event (Events API v2, /v2/change/enqueue): shown on the service, pages no one. */
export interface PagerDutyChangeEvent {
  routing_key: string;
  payload: { summary: string; timestamp: string; source: string; custom_details: Record<string, unknown> };
  links: Array<{ href: string; text: string }>;
}

export type PagerDutyEvent = PagerDutyTriggerEvent | PagerDutyResolveEvent | PagerDutyChangeEvent;

/** The change-events endpoint beside the configured enqueue URL. */
export function pagerDutyChangeUrl(enqueueUrl: string): string {
  return enqueueUrl.replace(/\/enqueue\/?$/, '/change/enqueue');
}

/**
 * Trigger, update (a trigger on the same dedup_key adds to the open alert) or resolve.
 * The dedup key is the alert's stable key, so PagerDuty also drops a re-sent trigger.
 */
export function buildPagerDutyEvent(n: Notification, routingKey: string): PagerDutyEvent {
  const dedupKey = n.dedupKey.slice(0, PAGERDUTY_LIMITS.dedupKey);
  if (n.action === 'resolve') return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  if (n.action === 'digest') {
    return {
      routing_key: routingKey,
      payload: {
        summary: truncate(n.title, PAGERDUTY_LIMITS.summary),
        timestamp: n.at,
        source: 'calwatch',
        custom_details: { ...n.metrics, findings: n.summary.split('\n') },
      },
      links: n.link === null ? [] : [{ href: n.link, text: 'Findings in Kibana' }],
    };
  }
  const event: PagerDutyTriggerEvent = {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: truncate(`${n.action === 'test' ? '[TEST] ' : ''}${n.title}: ${n.summary}`, PAGERDUTY_LIMITS.summary),
      source: n.licenseServer,
      severity: SEVERITY[n.severity],
      timestamp: n.at,
      group: 'calwatch',
      class: n.rule,
      custom_details: {
        cals: n.cals,
        since: n.since,
        top_offenders: n.topOffenders.map((o) => (o.cals === null ? o.name : `${o.name} (${o.cals})`)),
        remediation: n.remediation,
        finding_id: n.findingId,
        update: n.seq,
        ...n.metrics,
        // What Slack and Teams show, in the same words.
        facts: Object.fromEntries(factsOf(n)),
      },
    },
    links: n.link === null ? [] : [{ href: n.link, text: n.findingId !== null ? 'Finding in Kibana' : 'Dashboard' }],
    client: 'calwatch',
  };
  if (n.product !== null) event.payload.component = n.product;
  if (n.link !== null) event.client_url = n.link;
  return event;
}
