import { z } from 'zod';
import { LicenseRecord } from './license-record';

/** One HWID as one name presented it. */
export const HwidEntry = z.object({
  hwid: z.string(),
  /** Earliest issue date of a license of this HWID under this name. */
  firstSeen: z.number(),
  /** Latest moment this HWID's device certainly connected (see LicenseRecord.aliveAt). */
  lastAliveAt: z.number(),
  licenses: z.array(LicenseRecord),
});
export type HwidEntry = z.infer<typeof HwidEntry>;

/** Showed no life since the newest HWID of the name (first seen at `newest`) appeared. */
export function isSuperseded(entry: HwidEntry, newest: number): boolean {
  return entry.lastAliveAt < newest;
}
