import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Notification } from '../notification';
import { buildPagerDutyEvent } from './pagerduty';
import { buildSlackMessage, escapeSlack } from './slack';
import { buildTeamsMessage } from './teams';
import { buildWebhookBody, signWebhookBody } from './webhook';

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    schemaVersion: 1,
    action: 'trigger',
    dedupKey: 'calwatch/leak-rate-spike/LS01/Windows Server 2019',
    rule: 'leak-rate-spike',
    seq: 1,
    at: '2024-06-12T09:30:00.000Z',
    since: '2024-06-12T09:10:00.000Z',
    title: 'CAL issuance spike on LS01 (Windows Server 2019)',
    severity: 'high',
    summary: '42 new CALs since the spike began <!channel> & co',
    licenseServer: 'LS01',
    product: 'Windows Server 2019',
    cals: 42,
    metrics: { thresholdPerInterval: 10, baselinePerInterval: 1.5 },
    topOffenders: [{ name: 'VDI-001', cals: 7 }, { name: 'VDI-002', cals: null }],
    remediation: 'Persist HKLM\\SOFTWARE\\Microsoft\\MSLicensing in the image.',
    findingId: 'f-1',
    link: 'https://kibana.example/app/discover#/?f=f-1',
    ...overrides,
  };
}

// Slack Block Kit, as documented for incoming webhooks (docs.slack.dev reference/block-kit).
const PlainText = z.object({ type: z.literal('plain_text'), text: z.string().min(1), emoji: z.boolean().optional() });
const Mrkdwn = z.object({ type: z.literal('mrkdwn'), text: z.string().min(1) });
const SlackBlock = z.discriminatedUnion('type', [
  z.object({ type: z.literal('header'), text: PlainText.extend({ text: z.string().min(1).max(150) }) }).strict(),
  z
    .object({
      type: z.literal('section'),
      text: Mrkdwn.extend({ text: z.string().min(1).max(3000) }).optional(),
      fields: z.array(Mrkdwn.extend({ text: z.string().min(1).max(2000) })).min(1).max(10).optional(),
    })
    .strict()
    .refine((b) => b.text !== undefined || b.fields !== undefined, 'a section needs text or fields'),
  z.object({ type: z.literal('actions'), elements: z.array(z.object({ type: z.literal('button'), text: PlainText.extend({ text: z.string().max(75) }), url: z.url().max(3000) })).min(1).max(25) }).strict(),
  z.object({ type: z.literal('context'), elements: z.array(Mrkdwn).min(1).max(10) }).strict(),
]);
const SlackMessage = z.object({ text: z.string().min(1), blocks: z.array(SlackBlock).min(1).max(50) }).strict();

// PagerDuty Events API v2 ("Send an Alert Event", developer.pagerduty.com).
const PagerDutyTrigger = z
  .object({
    routing_key: z.string().min(1),
    event_action: z.literal('trigger'),
    dedup_key: z.string().max(255),
    payload: z
      .object({
        summary: z.string().min(1).max(1024),
        source: z.string().min(1),
        severity: z.enum(['critical', 'error', 'warning', 'info']),
        timestamp: z.iso.datetime().optional(),
        component: z.string().optional(),
        group: z.string().optional(),
        class: z.string().optional(),
        custom_details: z.record(z.string(), z.unknown()).optional(),
      })
      .strict(),
    links: z.array(z.object({ href: z.url(), text: z.string().optional() })).optional(),
    images: z.array(z.object({ src: z.url() })).optional(),
    client: z.string().optional(),
    client_url: z.url().optional(),
  })
  .strict();
const PagerDutyResolve = z.object({ routing_key: z.string().min(1), event_action: z.literal('resolve'), dedup_key: z.string().min(1).max(255) }).strict();

// Teams incoming webhook / Workflows: a message with one Adaptive Card attachment.
const CardElement = z.discriminatedUnion('type', [
  z.object({ type: z.literal('TextBlock'), text: z.string().min(1) }).passthrough(),
  z.object({ type: z.literal('FactSet'), facts: z.array(z.object({ title: z.string(), value: z.string() })).min(1) }),
]);
const TeamsMessage = z
  .object({
    type: z.literal('message'),
    attachments: z
      .array(
        z.object({
          contentType: z.literal('application/vnd.microsoft.card.adaptive'),
          contentUrl: z.null(),
          content: z.object({
            $schema: z.literal('http://adaptivecards.io/schemas/adaptive-card.json'),
            type: z.literal('AdaptiveCard'),
            version: z.string().regex(/^1\.[0-5]$/),
            body: z.array(CardElement).min(1),
            actions: z.array(z.object({ type: z.literal('Action.OpenUrl'), title: z.string(), url: z.url() })).optional(),
          }),
        }),
      )
      .length(1),
  })
  .strict();

describe('Slack incoming webhook message', () => {
  it('matches Block Kit and says what, how bad, since when, how many, who, what to do, where', () => {
    const message = SlackMessage.parse(buildSlackMessage(notification()));
    const all = JSON.stringify(message);
    expect(message.text).toContain('High');
    expect(message.blocks[0]).toMatchObject({ type: 'header', text: { text: 'ALERT: CAL issuance spike on LS01 (Windows Server 2019)' } });
    for (const expected of ['2024-06-12T09:10:00.000Z', '*CALs*\\n42', 'VDI-001 (7 CALs)', 'MSLicensing', 'https://kibana.example/app/discover#/?f=f-1']) {
      expect(all).toContain(expected);
    }
  });

  it('escapes markup so content cannot ping a channel', () => {
    const all = JSON.stringify(buildSlackMessage(notification()));
    expect(all).not.toContain('<!channel>');
    expect(all).toContain('&lt;!channel&gt; &amp; co');
    expect(escapeSlack('<a&b>')).toBe('&lt;a&amp;b&gt;');
  });

  it('keeps within the limits whatever the content', () => {
    const long = 'x'.repeat(5000);
    expect(() => SlackMessage.parse(buildSlackMessage(notification({ title: long, summary: long, remediation: long, topOffenders: Array.from({ length: 200 }, (_, i) => ({ name: `PC-${i}-${long.slice(0, 30)}`, cals: i })) })))).not.toThrow();
  });

  it('a resolve drops the remediation; no link, no button', () => {
    const message = SlackMessage.parse(buildSlackMessage(notification({ action: 'resolve', link: null })));
    expect(message.blocks[0]).toMatchObject({ text: { text: expect.stringMatching(/^RESOLVED: /) } });
    expect(JSON.stringify(message)).not.toContain('Remediation');
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
  });
});

describe('PagerDuty Events API v2 event', () => {
  it('a trigger carries routing key, stable dedup key and the payload fields', () => {
    const event = PagerDutyTrigger.parse(buildPagerDutyEvent(notification(), 'R0UT1NGKEY'));
    expect(event).toMatchObject({
      routing_key: 'R0UT1NGKEY',
      event_action: 'trigger',
      dedup_key: 'calwatch/leak-rate-spike/LS01/Windows Server 2019',
      payload: { source: 'LS01', severity: 'error', component: 'Windows Server 2019', class: 'leak-rate-spike', group: 'calwatch', timestamp: '2024-06-12T09:30:00.000Z' },
      links: [{ href: 'https://kibana.example/app/discover#/?f=f-1' }],
    });
    expect(event.payload.custom_details).toMatchObject({ cals: 42, since: '2024-06-12T09:10:00.000Z', top_offenders: ['VDI-001 (7)', 'VDI-002'], thresholdPerInterval: 10 });
  });

  it('an update is a trigger on the same dedup key; a resolve carries only the key', () => {
    const update = PagerDutyTrigger.parse(buildPagerDutyEvent(notification({ action: 'update', seq: 2, severity: 'critical' }), 'K'));
    expect(update.payload.severity).toBe('critical');
    expect(PagerDutyResolve.parse(buildPagerDutyEvent(notification({ action: 'resolve' }), 'K'))).toEqual({
      routing_key: 'K',
      event_action: 'resolve',
      dedup_key: 'calwatch/leak-rate-spike/LS01/Windows Server 2019',
    });
  });

  it('maps every severity and truncates the summary to 1024', () => {
    const map = (['info', 'low', 'medium', 'high', 'critical'] as const).map((severity) => {
      const event = PagerDutyTrigger.parse(buildPagerDutyEvent(notification({ severity, summary: 'y'.repeat(3000) }), 'K'));
      expect(event.payload.summary.length).toBe(1024);
      return event.payload.severity;
    });
    expect(map).toEqual(['info', 'warning', 'warning', 'error', 'critical']);
  });
});

describe('Teams Adaptive Card message', () => {
  it('matches the incoming-webhook / Workflows shape with facts and a link', () => {
    const message = TeamsMessage.parse(buildTeamsMessage(notification()));
    const card = message.attachments[0]!.content;
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open finding', url: 'https://kibana.example/app/discover#/?f=f-1' }]);
    const facts = card.body.find((e) => e.type === 'FactSet');
    expect(facts).toMatchObject({ facts: expect.arrayContaining([{ title: 'CALs', value: '42' }, { title: 'Since', value: '2024-06-12T09:10:00.000Z' }]) });
    expect(JSON.stringify(card)).toContain('VDI-001 (7 CALs)');
  });

  it('no link, no action', () => {
    const message = TeamsMessage.parse(buildTeamsMessage(notification({ link: null, action: 'resolve' })));
    expect(message.attachments[0]!.content.actions).toBeUndefined();
  });
});

describe('generic webhook', () => {
  it('sends the notification itself and signs timestamp.body with HMAC-SHA256', () => {
    const body = JSON.stringify(buildWebhookBody(notification()));
    expect(JSON.parse(body)).toMatchObject({ type: 'calwatch.alert', dedupKey: 'calwatch/leak-rate-spike/LS01/Windows Server 2019', cals: 42 });
    const signature = signWebhookBody(body, 'a-long-shared-secret', 1718184600);
    const expected = createHmac('sha256', 'a-long-shared-secret').update(`1718184600.${body}`).digest('hex');
    expect(signature).toBe(`sha256=${expected}`);
    expect(signWebhookBody(body, 'another-secret-value', 1718184600)).not.toBe(signature);
  });
});
