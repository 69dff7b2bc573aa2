import type { ServiceEventFact } from '@calwatch/model';
import type { Condition } from './alert-machine';
import { buildDedupKey } from './dedup-key';
import { REVOCATION_REMEDIATION } from './remediation';
import type { RuleSettings } from './rule-settings';
import type { SeriesState } from './series';

const MAX_COMPUTERS = 20;

/**
 * Event 81: a revocation was refused because 20% of the version's CALs are already
 * revoked. The alert stays open until revocation is allowed again (the event's date), or
 * for `clearAfterMs` after the last such event when it gives none.
 */
export function recordRevocationLimit(series: SeriesState, fact: ServiceEventFact, at: number, settings: RuleSettings): void {
  const nextAllowed = fact.nextRevokeAllowedAt === null ? Number.NaN : Date.parse(fact.nextRevokeAllowedAt);
  const until = Number.isFinite(nextAllowed) && nextAllowed > at ? nextAllowed : at + settings.revocation.clearAfterMs;
  const previous = series.revocation !== null && at < series.revocation.until ? series.revocation : null;
  const computers = previous?.computers ?? [];
  const client = fact.client?.norm;
  if (client !== undefined && !computers.includes(client) && computers.length < MAX_COMPUTERS) computers.push(client);
  series.revocation = {
    since: previous?.since ?? at,
    until: Math.max(until, previous?.until ?? 0),
    revokedCount: fact.revokedCount ?? previous?.revokedCount ?? null,
    installedCount: fact.installedCount ?? previous?.installedCount ?? null,
    nextRevokeAllowedAt: fact.nextRevokeAllowedAt ?? previous?.nextRevokeAllowedAt ?? null,
    computers,
    lastAt: Math.max(at, previous?.lastAt ?? at),
  };
}

export function revocationDedupKey(series: SeriesState): string {
  return buildDedupKey('revocation-limit', series.licenseServer, series.product);
}

export function evaluateRevocation(series: SeriesState, now: number, settings: RuleSettings): Condition | null {
  const r = series.revocation;
  if (r === null) return null;
  const active = now < r.until && settings.enabled.has('revocation-limit');
  const when = r.nextRevokeAllowedAt ?? new Date(r.until).toISOString();
  return {
    dedupKey: revocationDedupKey(series),
    rule: 'revocation-limit',
    active,
    details: {
      title: `Revocation limit reached: ${series.product} on ${series.licenseServer}`,
      severity: 'high',
      summary: active
        ? `${r.revokedCount ?? '?'} of ${r.installedCount ?? '?'} installed CALs are already revoked; no more revocations before ${when}.`
        : `Revocation is allowed again (since ${when}).`,
      licenseServer: series.licenseServer,
      product: series.product,
      since: new Date(r.since).toISOString(),
      cals: r.revokedCount ?? 0,
      metrics: {
        revokedCals: r.revokedCount ?? 'unknown',
        installedCals: r.installedCount ?? 'unknown',
        nextRevokeAllowedAt: when,
      },
      topOffenders: r.computers.slice(0, settings.topOffenders).map((name) => ({ name, cals: null })),
      remediation: REVOCATION_REMEDIATION,
      findingId: null,
    },
  };
}
