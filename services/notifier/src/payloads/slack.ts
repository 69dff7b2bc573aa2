import type { Notification } from '../notification';
import { ACTION_LABEL, SEVERITY_LABEL, factsOf, offenderLine, truncate } from './text';

/** Block Kit limits (docs.slack.dev, reference/block-kit). */
export const SLACK_LIMITS = { headerText: 150, sectionText: 3000, fields: 10, fieldText: 2000, buttonText: 75, url: 3000, contextElements: 10 };

const EMOJI: Record<Notification['action'], string> = {
  trigger: ':rotating_light:',
  update: ':warning:',
  resolve: ':white_check_mark:',
  test: ':test_tube:',
  digest: ':newspaper:',
};

/** Slack treats &, < and > as markup (`<!channel>` would ping everyone): content is escaped. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

type TextObject = { type: 'plain_text' | 'mrkdwn'; text: string; emoji?: boolean };
type Block =
  | { type: 'header'; text: TextObject }
  | { type: 'section'; text?: TextObject; fields?: TextObject[] }
  | { type: 'actions'; elements: Array<{ type: 'button'; text: TextObject; url: string; style?: 'primary' | 'danger' }> }
  | { type: 'context'; elements: TextObject[] };

export interface SlackMessage {
  /** Shown in notifications and by clients that cannot render blocks. */
  text: string;
  blocks: Block[];
}

/** An incoming-webhook message: header, summary, facts, offenders, remediation, link. */
export function buildSlackMessage(n: Notification): SlackMessage {
  const label = ACTION_LABEL[n.action];
  const mrkdwn = (text: string, max = SLACK_LIMITS.sectionText): TextObject => ({ type: 'mrkdwn', text: truncate(text, max) });
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`${label}: ${n.title}`, SLACK_LIMITS.headerText), emoji: true } },
    { type: 'section', text: mrkdwn(`${EMOJI[n.action]} ${escapeSlack(n.summary)}`) },
    {
      type: 'section',
      fields: factsOf(n)
        .slice(0, SLACK_LIMITS.fields)
        .map(([name, value]) => mrkdwn(`*${name}*\n${escapeSlack(value)}`, SLACK_LIMITS.fieldText)),
    },
  ];
  if (n.topOffenders.length > 0) {
    blocks.push({ type: 'section', text: mrkdwn(`*Top offenders*\n${n.topOffenders.map((o) => `• ${escapeSlack(offenderLine(o))}`).join('\n')}`) });
  }
  if (n.action !== 'resolve') blocks.push({ type: 'section', text: mrkdwn(`*Remediation*\n${escapeSlack(n.remediation)}`) });
  if (n.link !== null && n.link.length <= SLACK_LIMITS.url) {
    blocks.push({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: n.findingId !== null ? 'Open finding' : 'Open dashboard' }, url: n.link }],
    });
  }
  blocks.push({ type: 'context', elements: [mrkdwn(`calwatch · ${escapeSlack(n.dedupKey)} · #${n.seq} · ${n.at}`)] });
  return {
    text: truncate(`[${label}] ${SEVERITY_LABEL[n.severity]}: ${n.title} (${n.cals} CALs)`, SLACK_LIMITS.sectionText),
    blocks,
  };
}
