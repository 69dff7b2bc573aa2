import type { Severity } from '@calwatch/model';
import { isAtLeast, type AlertDetails, type RuleName } from './notification';

/** What decides whether a target hears about an alert; no URL or secret here. */
export interface TargetRoute {
  name: string;
  minSeverity: Severity;
  /** null: every rule. */
  rules: readonly RuleName[] | null;
  /** Normalised license server names; null: every server. */
  licenseServers: readonly string[] | null;
}

export function routeMatches(route: TargetRoute, rule: RuleName, details: AlertDetails): boolean {
  if (!isAtLeast(details.severity, route.minSeverity)) return false;
  if (route.rules !== null && !route.rules.includes(rule)) return false;
  if (route.licenseServers !== null && !route.licenseServers.includes(details.licenseServer.toUpperCase())) return false;
  return true;
}
