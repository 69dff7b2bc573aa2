import { firstIndexWhere } from '../chain';
import type { ChainSummaries } from '../chain-summary';
import type { CoreConfig } from '../config';
import type { DerivedFinding, Resolution } from '../finding-track';
import type { LicenseRecord } from '../license-record';
import { leakSeverity } from '../severity';
import { REVOKE_HOW, listOf, plural, shortHwid } from '../text';
import { DAY_MS, daysToMs, toDay } from '../time';

/**
 * Rule `cloned-image`: one HWID presented by several names on one license server, each
 * name switch making the server issue another CAL (the A/B/A ping-pong).
 */

/** What the rule reads: one HWID's chain on one server, never the whole by-hwid state. */
export interface ClonedImageView {
  readonly hwid: string;
  readonly server: string;
  /** The HWID's licenses on `server`, sorted by issue time then license id. */
  readonly chain: readonly LicenseRecord[];
  /** The finding is open now: it then holds while reissues keep coming. */
  readonly open: boolean;
  readonly clock: number;
  /** The chain's lists, reissues and valid licenses, kept by the stage from one chain to the next (chain-summary.ts). */
  readonly summaries: Pick<ChainSummaries, 'summaryOf' | 'standingOf'>;
}

export type ClonedImageConfig = Pick<CoreConfig, 'clone' | 'severity'>;

export function deriveClonedImage(view: ClonedImageView, config: ClonedImageConfig): DerivedFinding | null {
  const { hwid, server, chain, open, clock } = view;
  const windowMs = daysToMs(config.clone.windowDays);
  // Reissues up to the clock, in the window and in the last week, by their issue times.
  const summary = view.summaries.summaryOf(chain);
  const times = summary.switchTimes;
  const switchCount = countAtMost(times, clock);
  const recentCount = switchCount - countAtMost(times, clock - windowMs);
  const newLastWeek = switchCount - countAtMost(times, clock - 7 * DAY_MS);
  const lastAt = switchCount > 0 ? times[switchCount - 1] : undefined;
  // Opens on enough reissues lately; once open it holds while reissues keep coming within
  // the quiet period. A fixed image goes quiet: the cause stopped, but the CALs it leaked
  // stay valid for up to 89 days, so the finding stays open (cause stopped) until they are
  // reclaimed. An episode already quiet when first seen (a snapshot taken weeks after the
  // ping-pong) is reported the same way.
  if (lastAt === undefined || (recentCount < config.clone.minReissues && !open)) return null;
  const causeStopped = clock - lastAt >= daysToMs(config.clone.quietDays);

  const standing = view.summaries.standingOf(chain, clock);
  const surplus = standing.surplus;
  if (causeStopped && surplus.length === 0) return null;
  const computers = summary.computers;
  const leaked = surplus.length;
  const firstInWindow = chain[firstIndexWhere(chain.length, (i) => chain[i]!.issuedAt > clock - windowMs)] ?? chain[0]!;
  return {
    severity: leakSeverity(leaked, newLastWeek, config),
    hwids: [hwid],
    computers,
    licenseIds: summary.licenseIds,
    keyPackIds: summary.keyPackIds,
    candidates: standing.candidates,
    ...(standing.changedFrom === undefined ? {} : { candidatesChangedFrom: standing.changedFrom }),
    firstSeen: firstInWindow.issuedAt,
    lastSeen: summary.lastSeen,
    ...(causeStopped ? { causeStopped } : {}),
    describe() {
      return {
        summary:
          `HWID ${shortHwid(hwid)} is presented by ${plural(computers.length, 'computer')} (${listOf(computers)}) on ${server}: ` +
          `${plural(switchCount, 'reissue')}, ${plural(leaked, 'CAL')} held beyond one per device` +
          (causeStopped ? `; no reissue since ${toDay(lastAt)} (cause stopped), the leaked CALs stay valid until ${toDay(latestExpiry(surplus, clock))}` : ''),
        remediation: causeStopped
          ? `The reissues stopped; revoke the ${plural(leaked, 'leaked CAL')} per the revoke plan (${REVOKE_HOW}) to get them back before they expire. ` +
            `If the computers still share the image, delete HKLM\\SOFTWARE\\Microsoft\\MSLicensing on ${listOf(computers)} first.`
          : `Cloned image: delete HKLM\\SOFTWARE\\Microsoft\\MSLicensing on ${listOf(computers)} (or generalise the image with ` +
          `sysprep /generalize before cloning) so each computer presents its own HWID` +
          (leaked > 0 ? `, then revoke the ${plural(leaked, 'leaked CAL')} per the revoke plan (${REVOKE_HOW}).` : '.'),
      };
    },
    history() {
      return chain
        .filter((r) => r.issuedAt >= firstInWindow.issuedAt)
        .map((r) => ({ at: r.issuedAt, eventId: r.eventId, note: `CAL ${r.licenseId} (${r.status}) issued to ${r.computer}` }));
    },
  };
}

export function resolveClonedImage({ hwid, server, chain, clock, summaries }: ClonedImageView, config: ClonedImageConfig): Resolution {
  const last = summaries.summaryOf(chain).switchTimes.at(-1);
  const surplus = summaries.standingOf(chain, clock).surplus;
  const until = latestExpiry(surplus, clock);
  return {
    summary:
      `HWID ${shortHwid(hwid)} stopped being reissued on ${server}` +
      (last === undefined ? '' : ` (last reissue ${toDay(last)})`) +
      (surplus.length > 0 ? `; ${plural(surplus.length, 'CAL')} from the episode return by themselves by ${toDay(until)}` : ''),
    remediation: 'Nothing to do: the clones present their own HWIDs now.',
    note: surplus.length > 0 ? `resolved: no reissue for ${config.clone.quietDays} days` : 'resolved: no leaked CAL is valid any more',
  };
}

/** How many of the ascending `times` are at or before `at`. */
function countAtMost(times: readonly number[], at: number): number {
  return firstIndexWhere(times.length, (i) => times[i]! > at);
}

function latestExpiry(licenses: readonly LicenseRecord[], clock: number): number {
  let until = clock;
  for (const r of licenses) if (r.expiresAt !== null && r.expiresAt > until) until = r.expiresAt;
  return until;
}
