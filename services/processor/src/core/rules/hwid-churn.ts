import type { CoreConfig } from '../config';
import type { DerivedFinding, Resolution } from '../finding-track';
import { leakSeverity } from '../severity';
import { REVOKE_HOW, plural, shortHwid } from '../text';
import { DAY_MS, daysToMs, toDay } from '../time';
import { joined, mergeSorted } from '../chain';
import { issuedBetween } from '../dropped-cals';
import { type NameFacts, candidatesOf, nameSurplus } from './name-view';

/**
 * Rule `hwid-churn`: one name presenting a new HWID again and again (non-persistent VDI,
 * an image that is reset, a script deleting MSLicensing).
 */

export interface HwidChurnView {
  readonly name: NameFacts;
  /** The finding is open now: it then holds while new HWIDs keep coming. */
  readonly open: boolean;
}

export type HwidChurnConfig = Pick<CoreConfig, 'churn' | 'severity'>;

/**
 * The finding when churn holds. While it holds, by-computer records `name.newest` as covered
 * by churn: those HWIDs are never reported as rebuilds afterwards.
 */
export function deriveHwidChurn({ name: facts, open }: HwidChurnView, config: HwidChurnConfig): DerivedFinding | null {
  const { hwids, clock, newest, name, server, dropped } = facts;
  const windowStart = clock - daysToMs(config.churn.windowDays);
  const weekStart = clock - 7 * DAY_MS;
  // One pass over the kept HWIDs (a churning name reads them on every boot).
  let recentKept = 0;
  let weekKept = 0;
  let earliestKept = Number.POSITIVE_INFINITY;
  for (const h of hwids) {
    if (h.firstSeen > clock) continue;
    if (h.firstSeen > windowStart) {
      recentKept++;
      if (h.firstSeen < earliestKept) earliestKept = h.firstSeen;
    }
    if (h.firstSeen > weekStart) weekKept++;
  }
  // HWIDs dropped at the name's cap count by their kept CALs.
  const recentDropped = issuedBetween(dropped, windowStart, clock);
  const recentCount = recentKept + recentDropped.count;
  // Opens on enough new HWIDs lately; once open it holds while new HWIDs keep coming
  // within the quiet period (a deletion script every two weeks never has many at once).
  // Once quiet the cause stopped, but the CALs it leaked stay valid until they expire: the
  // finding stays open (cause stopped) until they are reclaimed.
  if (!(recentCount >= config.churn.minHwids || open) || hwids.length === 0) return null;
  const causeStopped = clock - newest >= daysToMs(config.churn.quietDays);
  const surplus = nameSurplus(facts);
  // CALs of HWIDs dropped at the name's cap (its longest silent) count too, listed first.
  const leaked = surplus.length + dropped.cals.length;
  if (causeStopped && leaked === 0) return null;
  const newLastWeek = weekKept + issuedBetween(dropped, weekStart, clock).count;
  const firstSeen = Math.min(recentKept > 0 ? earliestKept : newest, recentDropped.earliest ?? Number.POSITIVE_INFINITY);
  return {
    severity: leakSeverity(leaked, newLastWeek, config),
    hwids: facts.allHwids,
    computers: [facts.computer],
    licenseIds: dropped.cals.length === 0 ? facts.licenseIds : mergeSorted(dropped.licenseIds, facts.licenseIds),
    keyPackIds: dropped.cals.length === 0 ? facts.keyPackIds : mergeSorted(dropped.keyPackIds, facts.keyPackIds),
    candidates: dropped.cals.length === 0 ? candidatesOf(surplus) : joined(dropped.cals, candidatesOf(surplus)),
    firstSeen,
    lastSeen: facts.lastSeen,
    ...(causeStopped ? { causeStopped } : {}),
    describe() {
      return {
        summary:
          `${name} presented ${plural(recentCount, 'new HWID')} in the last ${config.churn.windowDays} days on ${server} ` +
          (dropped.cals.length === 0
            ? `(${hwids.length} in all)`
            : `(${hwids.length} kept in full, and the ${plural(dropped.cals.length, 'valid CAL')} of older ones)`) +
          `; ${plural(leaked, 'CAL')} held beyond the one in use` +
          (facts.uncountedCals > 0
            ? ` (not counted: ${plural(facts.uncountedCals, 'more CAL')} of older HWIDs dropped from the name's state, which may still be valid)`
            : '') +
          (causeStopped ? `; no new HWID since ${toDay(newest)} (cause stopped), the leaked CALs are still valid` : ''),
        remediation: causeStopped
          ? `${name} has kept its HWID for ${config.churn.quietDays} days; revoke the ${plural(leaked, 'leaked CAL')} per the revoke plan (${REVOKE_HOW}) to get them back before they expire.`
          : `${name} does not keep its client license store: HKLM\\SOFTWARE\\Microsoft\\MSLicensing is lost on every reset ` +
          `(non-persistent VDI, a provisioned image that is reset, or a script deleting the key). Keep the key in the golden image ` +
          `and on persistent storage, stop the script that deletes it, or license this collection per user` +
          (leaked > 0 ? `; then revoke the ${plural(leaked, 'leaked CAL')} per the revoke plan (${REVOKE_HOW}).` : '.'),
      };
    },
    history() {
      return hwids
        .filter((h) => h.firstSeen >= firstSeen)
        .map((h) => ({
          at: h.firstSeen,
          eventId: h.licenses[0]?.eventId ?? `hwid:${h.hwid}`,
          note: `new HWID ${shortHwid(h.hwid)}` + (h.licenses[0] ? ` (CAL ${h.licenses[0].licenseId})` : ''),
        }));
    },
  };
}

export function resolveHwidChurn({ name: facts }: HwidChurnView, config: HwidChurnConfig): Resolution {
  return {
    summary: `${facts.name} has kept its HWID for ${config.churn.quietDays} days: the churn stopped and no CAL it leaked is valid any more`,
    remediation: 'Nothing to do.',
    note: 'resolved: no leaked CAL is valid any more',
  };
}
