import type { DroppedCalsView } from '../dropped-cals';
import type { Candidate } from '../messages';
import type { HwidEntry } from '../hwid-entry';
import { candidateOf, compareRecords } from '../chain';
import { type LicenseRecord, holdsCalAt, isValidAt } from '../license-record';

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

/**
 * One device under this name: every valid permanent CAL beyond its newest valid license is
 * surplus (splitInUse with one device, in two plain passes: a churning name reads its 64
 * HWIDs' licenses on every boot).
 */
export function nameSurplus(facts: NameFacts): LicenseRecord[] {
  const { licenses, clock } = facts;
  let inUse: LicenseRecord | undefined;
  for (const r of licenses) if (isValidAt(r, clock) && (inUse === undefined || compareRecords(inUse, r) < 0)) inUse = r;
  const surplus: LicenseRecord[] = [];
  for (const r of licenses) if (r !== inUse && holdsCalAt(r, clock)) surplus.push(r);
  return surplus;
}

/** Reclaimable candidates in chain order (a name's licenses mostly are already: no sort then). */
export function candidatesOf(records: readonly LicenseRecord[]): Candidate[] {
  let ordered = true;
  for (let i = 1; i < records.length && ordered; i++) ordered = compareRecords(records[i - 1]!, records[i]!) <= 0;
  return (ordered ? records : [...records].sort(compareRecords)).map(candidateOf);
}
