import { uniqueSorted } from '../chain';
import type { CoreConfig } from '../config';
import type { DerivedFinding, Resolution } from '../finding-track';
import { isSuperseded } from '../hwid-entry';
import { holdsCalAt } from '../license-record';
import { leakSeverity } from '../severity';
import { REVOKE_HOW, listOf, plural, shortHwid } from '../text';
import { daysToMs, toDay } from '../time';
import { type NameFacts, candidatesOf } from './name-view';

/**
 * Rule `rebuilt-device`: one name that got one new HWID (rebuilt or reimaged); the valid
 * permanent CALs of the superseded HWIDs are orphaned until they expire.
 */

export interface RebuiltDeviceView {
  readonly name: NameFacts;
  /** The finding is open now: it then holds without waiting for confirmation again. */
  readonly open: boolean;
  /** firstSeen of the newest HWID that arrived while churn held (null: none did). */
  readonly churnCoveredUpTo: number | null;
}

export type RebuiltDeviceConfig = Pick<CoreConfig, 'rebuild' | 'severity'>;

export function deriveRebuiltDevice({ name: facts, open, churnCoveredUpTo }: RebuiltDeviceView, config: RebuiltDeviceConfig): DerivedFinding | null {
  const { hwids, clock, newest, name, server } = facts;
  const superseded = hwids.filter((h) => isSuperseded(h, newest));
  const orphans = superseded.flatMap((h) => h.licenses.filter((r) => holdsCalAt(r, clock)));
  // HWIDs that came during a churn episode are that churn's, even after it went quiet.
  const churned = churnCoveredUpTo !== null && newest <= churnCoveredUpTo;
  if (!(orphans.length > 0 && !churned && (open || clock - newest >= daysToMs(config.rebuild.confirmDays)))) return null;
  const current = hwids.filter((h) => h.firstSeen === newest);
  const oldHwids = uniqueSorted(orphans.map((r) => r.hwid));
  const until = Math.max(...orphans.map((r) => r.expiresAt ?? clock));
  const ids = orphans.map((r) => r.licenseId).sort((a, b) => a - b);
  return {
    severity: leakSeverity(orphans.length, 0, config),
    hwids: uniqueSorted([...oldHwids, ...current.map((h) => h.hwid)]),
    computers: [facts.computer],
    licenseIds: uniqueSorted([...orphans.map((r) => r.licenseId), ...current.flatMap((h) => h.licenses.map((r) => r.licenseId))]),
    keyPackIds: uniqueSorted(orphans.map((r) => r.keyPackId)),
    candidates: candidatesOf(orphans),
    firstSeen: newest,
    lastSeen: facts.lastSeen,
    describe() {
      return {
        summary:
          `${name} now presents HWID ${listOf(current.map((h) => shortHwid(h.hwid)))} on ${server}; ` +
          `${plural(orphans.length, 'CAL')} of its old HWID ${listOf(oldHwids.map(shortHwid))} (${listOf(ids.map(String))}) ` +
          `orphaned until ${toDay(until)}`,
        remediation:
          `The device was rebuilt or reimaged and got a new HWID. Revoke the orphaned ${ids.length === 1 ? 'CAL' : 'CALs'} ` +
          `${listOf(ids.map(String), 8)} (${REVOKE_HOW}) to return ${ids.length === 1 ? 'it' : 'them'} now; otherwise ` +
          `${ids.length === 1 ? 'it returns by itself' : 'they return by themselves'} on ${toDay(until)}.`,
      };
    },
    history() {
      return [
        ...orphans.map((r) => ({ at: r.issuedAt, eventId: r.eventId, note: `CAL ${r.licenseId} issued to HWID ${shortHwid(r.hwid)}` })),
        ...current.map((h) => ({
          at: h.firstSeen,
          eventId: h.licenses[0]?.eventId ?? `hwid:${h.hwid}`,
          note: `new HWID ${shortHwid(h.hwid)} presented` + (h.licenses[0] ? ` (CAL ${h.licenses[0].licenseId})` : ''),
        })),
      ].sort((a, b) => a.at - b.at);
    },
  };
}

/** An old HWID that proves alive after all (it renews) means it was no rebuild: duplicate-name takes over. */
export function resolveRebuiltDevice({ name: facts }: RebuiltDeviceView): Resolution {
  const { hwids, newest, name } = facts;
  const revived = hwids.some((h) => h.firstSeen < newest && !isSuperseded(h, newest));
  return revived
    ? {
        summary: `${name}: the old HWID is still renewing, so this was not a rebuild (see duplicate-name)`,
        remediation: 'Nothing to revoke: both HWIDs belong to live devices.',
        note: 'resolved: old HWID renewed after the new one appeared',
      }
    : {
        summary: `${name}: the orphaned CALs of the old HWID expired, were returned or were revoked`,
        remediation: 'Nothing to do.',
        note: 'resolved: no orphaned CAL left',
      };
}
