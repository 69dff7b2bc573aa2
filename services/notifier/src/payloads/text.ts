import type { Severity } from '@calwatch/model';
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
  digest: 'DIGEST',
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

/** The facts every target shows, in one order: for a finding, what to do next as well. */
export function factsOf(n: Notification): Array<[string, string]> {
  const m = n.metrics;
  const isFinding = typeof m['kind'] === 'string';
  const facts: Array<[string, string]> = [
    ['Severity', SEVERITY_LABEL[n.severity]],
    ['Since', n.since],
    [isFinding ? 'Leaked CALs' : 'CALs', String(n.cals)],
    ['License server', n.licenseServer],
  ];
  if (n.product !== null) facts.push(['Product', n.product]);
  if (isFinding) {
    if (m['status'] === 'cause-stopped') facts.push(['Status', 'cause stopped: the leaked CALs are still valid, revoke them per the plan']);
    if (typeof m['devices'] === 'number') facts.push(['Devices', devicesLine(n)]);
    if (typeof m['reclaimableCals'] === 'number') facts.push(['Reclaimable CALs', String(m['reclaimableCals'])]);
    if (typeof m['nextRevokeCals'] === 'number') facts.push(['Next revoke', `${m['nextRevokeCals']} CAL${m['nextRevokeCals'] === 1 ? '' : 's'} allowed from ${String(m['nextRevokeAt'])}`]);
  }
  facts.push(['Rule', n.rule]);
  return facts;
}

/** "3: PC-1, PC-2, PC-3" or "120: PC-1, PC-2, PC-3 and 117 more". */
export function devicesLine(n: Notification): string {
  const count = n.metrics['devices'];
  const names = n.topOffenders.map((o) => o.name);
  const more = typeof count === 'number' ? count - names.length : 0;
  return `${String(count)}${names.length > 0 ? `: ${names.join(', ')}` : ''}${more > 0 ? ` and ${more} more` : ''}`;
}
