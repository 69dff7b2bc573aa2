import type { Finding } from '@calwatch/model';
import type { AlertRecord, Condition } from './alert-machine';
import { buildDedupKey } from './dedup-key';
import { type RuleName, isAtLeast } from './notification';
import { FINDING_TITLES } from './remediation';
import type { RuleSettings } from './rule-settings';

/**
 * The rule a finding pages under: pool exhaustion and leak-rate spikes by themselves (targets
 * route them apart), every leak as a finding.
 */
export function findingRule(finding: Pick<Finding, 'kind'>): RuleName {
  if (finding.kind === 'pool-exhaustion' || finding.kind === 'leak-rate-spike') return finding.kind;
  return 'high-severity-finding';
}

/** One incident per finding id: a finding that reopens continues it. */
export function findingDedupKey(finding: Pick<Finding, 'kind' | 'id'>): string {
  return buildDedupKey(findingRule(finding), finding.id);
}

/**
 * The processor decides what a finding is and how bad; the notifier only decides whether it
 * pages: an open finding at or above the minimum severity (never below medium) that holds
 * CALs to reclaim, or a pool-exhaustion or leak-rate-spike finding. `paged`: the finding's incident is open.
 */
export function evaluateFinding(finding: Finding, settings: RuleSettings, paged = false): Condition {
  const rule = findingRule(finding);
  // Pool and rate findings hold no CALs of their own; a leak with nothing to reclaim is not actionable.
  const actionable = finding.kind === 'pool-exhaustion' || finding.kind === 'leak-rate-spike' || finding.leakedCals > 0;
  const pages = actionable && isAtLeast(finding.severity, settings.finding.minSeverity) && isAtLeast(finding.severity, 'medium');
  // Once paged, the incident lasts as long as the finding is open: its severity may drop
  // (and rise again), its visibility may not; the resolve comes when the finding resolves.
  const active = finding.state === 'open' && (paged || pages) && settings.enabled.has(rule);
  // Bounded lists (the first names); the counts are exact.
  const names = finding.computers.length > 0 ? finding.computers : finding.hwids;
  const devices = finding.computers.length > 0 ? finding.computerCount : finding.hwidCount;
  const next = finding.revokePlan[0];
  const shown = names.slice(0, settings.topOffenders);
  return {
    dedupKey: findingDedupKey(finding),
    rule,
    active,
    details: {
      title: `${FINDING_TITLES[finding.kind]} on ${finding.licenseServer}`,
      severity: finding.severity,
      summary: finding.summary,
      licenseServer: finding.licenseServer,
      product: finding.productVersion,
      since: finding.firstSeen,
      cals: finding.leakedCals,
      metrics: {
        kind: finding.kind,
        status: finding.state === 'open' ? (finding.status ?? 'active') : 'resolved',
        revision: finding.revision,
        licenses: finding.licenseCount,
        leakedCals: finding.leakedCals,
        reclaimableCals: finding.leakedCals,
        devices,
        ...(devices > shown.length ? { moreDevices: devices - shown.length } : {}),
        ...(next === undefined ? {} : { nextRevokeCals: next.count, nextRevokeAt: next.notBefore, revokeBatches: finding.revokePlan.length }),
        lastSeen: finding.lastSeen,
      },
      topOffenders: shown.map((name) => ({ name, cals: null })),
      remediation: finding.remediation,
      findingId: finding.id,
    },
  };
}

/** An update older than what the alert already reflects (redelivery, replay) changes nothing. */
export function isStaleFinding(record: AlertRecord | undefined, finding: Finding): boolean {
  const seen = record?.details.metrics['revision'];
  return typeof seen === 'number' && finding.revision < seen;
}
