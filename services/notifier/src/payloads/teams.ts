import type { Notification } from '../notification';
import { ACTION_LABEL, factsOf, offenderLine } from './text';

/**
 * A message with one Adaptive Card attachment: what Teams incoming webhooks and the
 * Workflows "post to a channel when a webhook request is received" flow both accept
 * (learn.microsoft.com, "Send Adaptive Cards using an Incoming Webhook").
 */
export interface TeamsMessage {
  type: 'message';
  attachments: Array<{
    contentType: 'application/vnd.microsoft.card.adaptive';
    contentUrl: null;
    content: AdaptiveCard;
  }>;
}

type CardElement =
  | { type: 'TextBlock'; text: string; wrap: boolean; weight?: 'Bolder'; size?: 'Medium' | 'Large'; color?: 'Attention' | 'Warning' | 'Good' | 'Accent'; isSubtle?: boolean }
  | { type: 'FactSet'; facts: Array<{ title: string; value: string }> };

export interface AdaptiveCard {
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  type: 'AdaptiveCard';
  version: '1.4';
  body: CardElement[];
  actions?: Array<{ type: 'Action.OpenUrl'; title: string; url: string }>;
  msteams: { width: 'Full' };
}

const COLOR: Record<Notification['action'], 'Attention' | 'Warning' | 'Good' | 'Accent'> = {
  trigger: 'Attention',
  update: 'Warning',
  resolve: 'Good',
  test: 'Accent',
  digest: 'Accent',
};

/** Card text is Markdown: characters that would format are escaped. */
export function escapeTeams(text: string): string {
  return text.replace(/([\\`*_[\]<>#])/g, '\\$1');
}

export function buildTeamsMessage(n: Notification): TeamsMessage {
  const body: CardElement[] = [
    { type: 'TextBlock', text: `${ACTION_LABEL[n.action]}: ${escapeTeams(n.title)}`, wrap: true, weight: 'Bolder', size: 'Medium', color: COLOR[n.action] },
    { type: 'TextBlock', text: escapeTeams(n.summary), wrap: true },
    { type: 'FactSet', facts: factsOf(n).map(([title, value]) => ({ title, value: escapeTeams(value) })) },
  ];
  if (n.topOffenders.length > 0) {
    body.push({ type: 'TextBlock', text: 'Top offenders', wrap: true, weight: 'Bolder' });
    body.push({ type: 'TextBlock', text: n.topOffenders.map((o) => `- ${escapeTeams(offenderLine(o))}`).join('\n'), wrap: true });
  }
  if (n.action !== 'resolve') {
    body.push({ type: 'TextBlock', text: 'Remediation', wrap: true, weight: 'Bolder' });
    body.push({ type: 'TextBlock', text: escapeTeams(n.remediation), wrap: true });
  }
  body.push({ type: 'TextBlock', text: `calwatch · ${escapeTeams(n.dedupKey)} · #${n.seq}`, wrap: true, isSubtle: true });
  const card: AdaptiveCard = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    msteams: { width: 'Full' },
  };
  if (n.link !== null) card.actions = [{ type: 'Action.OpenUrl', title: n.findingId !== null ? 'Open finding' : 'Open dashboard', url: n.link }];
  return { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }] };
}
