import type { Severity } from '@calwatch/shared';
import type { Notification, NotificationAction } from '../notification';

/** Cuts to `max` characters with an ellipsis, so a field never exceeds a target's limit. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}

export const ACTION_LABEL: Readonly<Record<NotificationAction, string>> = {
  trigger: 'ALERT',
  update: 'UPDATE',
  resolve: 'RESOLVED',
  test: 'TEST',
};

export const SEVERITY_LABEL: Readonly<Record<Severity, string>> = {
  info: 'Info',
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  critical: 'Critical',
};

/** "PC-1 (12 CALs), PC-2 (3 CALs)" */
export function offenderLine(offender: Notification['topOffenders'][number]): string {
  return offender.cals === null ? offender.name : `${offender.name} (${offender.cals} CAL${offender.cals === 1 ? '' : 's'})`;
}

/** The facts every target shows, in one order. */
export function factsOf(n: Notification): Array<[string, string]> {
  const facts: Array<[string, string]> = [
    ['Severity', SEVERITY_LABEL[n.severity]],
    ['Since', n.since],
    ['CALs', String(n.cals)],
    ['License server', n.licenseServer],
  ];
  if (n.product !== null) facts.push(['Product', n.product]);
  facts.push(['Rule', n.rule]);
  return facts;
}
