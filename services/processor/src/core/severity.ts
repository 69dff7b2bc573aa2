import type { Severity } from '@calwatch/model';
import type { CoreConfig } from './config';

const ORDER: readonly Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export function severityRank(severity: Severity): number {
  return ORDER.indexOf(severity);
}

export function maxSeverity(a: Severity, b: Severity): Severity {
  return severityRank(a) >= severityRank(b) ? a : b;
}

/**
 * Severity of a leak: by how many CALs it holds now, raised to high when it grows fast
 * (new leaked CALs in the last 7 days), since a fast leak empties a pool before anyone looks.
 */
export function leakSeverity(leakedCals: number, newLastWeek: number, config: Pick<CoreConfig, 'severity'>): Severity {
  const { mediumLeaked, highLeaked, criticalLeaked, highRatePerWeek } = config.severity;
  let severity: Severity =
    leakedCals >= criticalLeaked ? 'critical' : leakedCals >= highLeaked ? 'high' : leakedCals >= mediumLeaked ? 'medium' : 'low';
  if (newLastWeek >= highRatePerWeek) severity = maxSeverity(severity, 'high');
  return severity;
}
