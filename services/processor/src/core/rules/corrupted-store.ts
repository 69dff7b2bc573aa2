import { uniqueSorted } from '../chain';
import type { CoreConfig } from '../config';
import type { DerivedFinding, Resolution } from '../finding-track';
import { leakSeverity } from '../severity';
import { REVOKE_HOW, plural, shortHwid } from '../text';
import { type NameFacts, candidatesOf, nameSurplus } from './name-view';

/**
 * Rule `corrupted-store`: the newest client.store inventory of a computer lists several
 * HWIDs in its MSLicensing store. Direct evidence, so it outranks every other name rule.
 */

/** The newest client.store inventory of the computer. */
export interface StoreInventory {
  readonly at: number;
  readonly eventId: string;
  /** Sorted, normalised. */
  readonly hwids: readonly string[];
}

export interface CorruptedStoreView {
  readonly name: NameFacts;
  readonly store: StoreInventory | null;
}

export type CorruptedStoreConfig = Pick<CoreConfig, 'severity'>;

export function deriveCorruptedStore({ name: facts, store }: CorruptedStoreView, config: CorruptedStoreConfig): DerivedFinding | null {
  if (store === null || store.hwids.length < 2) return null;
  const { name, server } = facts;
  const surplus = nameSurplus(facts);
  return {
    severity: leakSeverity(surplus.length, 0, config),
    hwids: uniqueSorted([...store.hwids, ...facts.allHwids]),
    computers: [facts.computer],
    licenseIds: facts.licenseIds,
    keyPackIds: facts.keyPackIds,
    candidates: candidatesOf(surplus),
    firstSeen: store.at,
    lastSeen: Math.max(facts.lastSeen, store.at),
    describe() {
      return {
        summary:
          `${name}'s client license store holds ${plural(store.hwids.length, 'HWID')} on ${server}; ` +
          `${plural(surplus.length, 'CAL')} held beyond the one in use`,
        remediation:
          `Corrupted client license store: on ${name} delete HKLM\\SOFTWARE\\Microsoft\\MSLicensing (HardwareID and Store), ` +
          `then connect once with the Remote Desktop client run as administrator so it recreates a single HWID` +
          (surplus.length > 0 ? `; then revoke the ${plural(surplus.length, 'leaked CAL')} per the revoke plan (${REVOKE_HOW}).` : '.'),
      };
    },
    history() {
      return [{ at: store.at, eventId: store.eventId, note: `store lists HWIDs ${store.hwids.map(shortHwid).join(', ')}` }];
    },
  };
}

export function resolveCorruptedStore({ name: facts }: CorruptedStoreView): Resolution {
  return {
    summary: `${facts.name}'s client license store holds a single HWID again`,
    remediation: 'Nothing to do.',
    note: 'resolved: store repaired',
  };
}
