import type { Finding } from '@calwatch/shared';
import type { AlertRecord, Condition } from './alert-machine';
import { buildDedupKey } from './dedup-key';
import { isAtLeast } from './notification';
import { FINDING_TITLES } from './remediation';
import type { RuleSettings } from './rule-settings';

export function findingDedupKey(findingId: string): string {
  return buildDedupKey('high-severity-finding', findingId);
}

/** An open finding at or above the minimum severity pages; resolved or downgraded, it clears. */
export function evaluateFinding(finding: Finding, settings: RuleSettings): Condition {
  const active = finding.state === 'open' && isAtLeast(finding.severity, settings.finding.minSeverity) && settings.enabled.has('high-severity-finding');
  // Bounded lists (the first names); the counts are exact.
  const names = finding.computers.length > 0 ? finding.computers : finding.hwids;
  const devices = finding.computers.length > 0 ? finding.computerCount : finding.hwidCount;
  const next = finding.revokePlan[0];
  return {
    dedupKey: findingDedupKey(finding.id),
    rule: 'high-severity-finding',
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
        revision: finding.revision,
        licenses: finding.licenseCount,
        reclaimableCals: finding.leakedCals,
        devices,
        ...(next === undefined ? {} : { nextRevokeCals: next.count, nextRevokeAt: next.notBefore, revokeBatches: finding.revokePlan.length }),
        lastSeen: finding.lastSeen,
      },
      topOffenders: names.slice(0, settings.topOffenders).map((name) => ({ name, cals: null })),
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
