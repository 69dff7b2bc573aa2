import { uniqueSorted } from '../chain';
import type { DerivedFinding, Resolution } from '../finding-track';
import { isSuperseded } from '../hwid-entry';
import { isValidAt } from '../license-record';
import { listOf, plural, shortHwid } from '../text';
import { toDay } from '../time';
import type { NameFacts } from './name-view';

/**
 * Rule `duplicate-name` (benign): two or more live devices use one name, each renewing its
 * own CAL. Severity info, nothing reclaimable, never a leak.
 */

export interface DuplicateNameView {
  readonly name: NameFacts;
}

export function deriveDuplicateName({ name: facts }: DuplicateNameView): DerivedFinding | null {
  const { hwids, clock, newest, name, server } = facts;
  const live = hwids.filter((h) => !isSuperseded(h, newest) && h.licenses.some((r) => isValidAt(r, clock)));
  if (live.length < 2) return null;
  const liveHwids = uniqueSorted(live.map((h) => h.hwid));
  return {
    severity: 'info',
    hwids: liveHwids,
    computers: [facts.computer],
    licenseIds: uniqueSorted(live.flatMap((h) => h.licenses.map((r) => r.licenseId))),
    keyPackIds: uniqueSorted(live.flatMap((h) => h.licenses.map((r) => r.keyPackId))),
    candidates: [],
    firstSeen: Math.min(...live.map((h) => h.firstSeen)),
    lastSeen: facts.lastSeen,
    describe() {
      return {
        summary:
          `${plural(live.length, 'live device')} share the name ${name} on ${server} (HWIDs ${listOf(liveHwids.map(shortHwid))}), ` +
          `each keeping its own CAL: not a leak`,
        remediation: `No CAL is leaked. Give the devices unique names so reports, revocations and support can tell them apart.`,
      };
    },
    history() {
      return live.map((h) => ({
        at: h.lastAliveAt,
        eventId: h.licenses.at(-1)?.eventId ?? `hwid:${h.hwid}`,
        note: `HWID ${shortHwid(h.hwid)} alive on ${toDay(h.lastAliveAt)}`,
      }));
    },
  };
}

export function resolveDuplicateName({ name: facts }: DuplicateNameView): Resolution {
  return {
    summary: `${facts.name} is no longer used by several live devices`,
    remediation: 'Nothing to do.',
    note: 'resolved: one live device left',
  };
}
