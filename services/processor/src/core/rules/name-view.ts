import type { DroppedCalsView } from '../dropped-cals';
import type { Candidate } from '../messages';
import type { HwidEntry } from '../hwid-entry';
import { candidateOf, compareRecords, splitInUse } from '../chain';
import type { LicenseRecord } from '../license-record';

/**
 * What every name rule (corrupted-store, hwid-churn, rebuilt-device, duplicate-name) reads
 * about one name on one license server. by-computer builds it once per message that needs
 * the rules, so lists the rules share are computed once.
 */
export interface NameFacts {
  readonly server: string;
  /** The normalised name (the finding's computer). */
  readonly computer: string;
  /** The name as last spelled, for texts. */
  readonly name: string;
  readonly clock: number;
  /** The HWIDs the name presented, sorted by firstSeen then HWID. */
  readonly hwids: readonly HwidEntry[];
  /** Every license of the name, HWID by HWID. */
  readonly licenses: readonly LicenseRecord[];
  /** firstSeen of the newest HWID (the clock when there is none). */
  readonly newest: number;
  /** Newest license update (the clock when there is none). */
  readonly lastSeen: number;
  readonly licenseIds: number[];
  readonly keyPackIds: number[];
  /** Every HWID of the name, sorted. */
  readonly allHwids: string[];
  /** The valid CALs of older HWIDs dropped at the state's cap (not in `hwids`). */
  readonly dropped: DroppedCalsView;
  /** Valid CALs of dropped HWIDs that could not be kept in `dropped`: said, not counted. */
  readonly uncountedCals: number;
}

/** One device under this name: every valid permanent CAL beyond the newest license is surplus. */
export function nameSurplus(facts: NameFacts): LicenseRecord[] {
  return splitInUse(facts.licenses, () => 'device', facts.clock).surplus;
}

/** Reclaimable candidates in chain order. */
export function candidatesOf(records: readonly LicenseRecord[]): Candidate[] {
  return [...records].sort(compareRecords).map(candidateOf);
}
