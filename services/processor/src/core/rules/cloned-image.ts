import { chainSurplus } from '../chain';
import type { CoreConfig } from '../config';
import type { DerivedFinding, Resolution } from '../finding-track';
import type { LicenseRecord } from '../license-record';
import type { Candidate } from '../messages';
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
  /** The chain's sorted lists, memoised by the stage: chains are replaced, never changed, and enrichment needs them too. */
  readonly listsOf: (chain: readonly LicenseRecord[]) => ChainLists;
}

export type ClonedImageConfig = Pick<CoreConfig, 'clone' | 'severity'>;

/** The sorted names, license ids and key pack ids of a chain. */
export interface ChainLists {
  computers: string[];
  licenseIds: number[];
  keyPackIds: number[];
}

export function deriveClonedImage(view: ClonedImageView, config: ClonedImageConfig): DerivedFinding | null {
  const { hwid, server, chain, open, clock } = view;
  const windowMs = daysToMs(config.clone.windowDays);
  // One pass, no allocation: most HWIDs never switch names and stop here.
  let switchCount = 0;
  let recentCount = 0;
  let newLastWeek = 0;
  let lastAt: number | undefined;
  for (let i = 1; i < chain.length; i++) {
    const cur = chain[i]!;
    if (cur.computer === chain[i - 1]!.computer || cur.issuedAt > clock) continue;
    switchCount++;
    if (cur.issuedAt > clock - windowMs) recentCount++;
    if (cur.issuedAt > clock - 7 * DAY_MS) newLastWeek++;
    lastAt = cur.issuedAt;
  }
  // Opens on enough reissues lately; once open it holds while reissues keep coming within
  // the quiet period. A fixed image goes quiet: the cause stopped, but the CALs it leaked
  // stay valid for up to 89 days, so the finding stays open (cause stopped) until they are
  // reclaimed. An episode already quiet when first seen (a snapshot taken weeks after the
  // ping-pong) is reported the same way.
  if (lastAt === undefined || (recentCount < config.clone.minReissues && !open)) return null;
  const causeStopped = clock - lastAt >= daysToMs(config.clone.quietDays);

  const surplus = chainSurplus(chain, computerOf, clock);
  if (causeStopped && surplus.length === 0) return null;
  const lists = view.listsOf(chain);
  const computers = lists.computers;
  const leaked = surplus.length;
  const firstInWindow = chain[firstIssuedAfter(chain, clock - windowMs)] ?? chain[0]!;
  let lastSeen = -Infinity;
  for (let i = 0; i < chain.length; i++) if (chain[i]!.updatedAt > lastSeen) lastSeen = chain[i]!.updatedAt;
  return {
    severity: leakSeverity(leaked, newLastWeek, config),
    hwids: [hwid],
    computers,
    licenseIds: lists.licenseIds,
    keyPackIds: lists.keyPackIds,
    candidates: surplus.map(candidateOf),
    firstSeen: firstInWindow.issuedAt,
    lastSeen,
    ...(causeStopped ? { causeStopped } : {}),
    describe: () => ({
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
    }),
    history: () =>
      chain
        .filter((r) => r.issuedAt >= firstInWindow.issuedAt)
        .map((r) => ({ at: r.issuedAt, eventId: r.eventId, note: `CAL ${r.licenseId} (${r.status}) issued to ${r.computer}` })),
  };
}

export function resolveClonedImage({ hwid, server, chain, clock }: ClonedImageView, config: ClonedImageConfig): Resolution {
  const last = lastSwitchAt(chain);
  const surplus = chainSurplus(chain, computerOf, clock);
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

const computerOf = (r: LicenseRecord) => r.computer;

/**
 * A license as a revoke candidate. Records are replaced, never changed, so each is made
 * once: an open cloned image re-derives its hundreds of candidates on every reissue.
 */
const candidates = new WeakMap<LicenseRecord, Candidate>();

function candidateOf(r: LicenseRecord): Candidate {
  let c = candidates.get(r);
  if (c === undefined) candidates.set(r, (c = { licenseId: r.licenseId, keyPackId: r.keyPackId, expiresAt: r.expiresAt }));
  return c;
}

/** Index of the chain's first license issued after `at` (chain.length: none). */
function firstIssuedAfter(chain: readonly LicenseRecord[], at: number): number {
  let lo = 0;
  let hi = chain.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (chain[mid]!.issuedAt > at) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Issue time of the chain's latest reissue (a CAL issued to another name than the one before). */
export function lastSwitchAt(chain: readonly LicenseRecord[]): number | undefined {
  for (let i = chain.length - 1; i > 0; i--) if (chain[i]!.computer !== chain[i - 1]!.computer) return chain[i]!.issuedAt;
  return undefined;
}

function latestExpiry(licenses: readonly LicenseRecord[], clock: number): number {
  let until = clock;
  for (const r of licenses) if (r.expiresAt !== null && r.expiresAt > until) until = r.expiresAt;
  return until;
}
