import type { LicenseStatus } from '@calwatch/model';

/**
 * When an export was taken. `analyze`, `replay` and the collector's drop folder all choose
 * it here: a time given by the user (an option, a header), else a time stamp in the file
 * name, else the file's mtime — and the mtime only within what the export itself proves.
 * An export is copied and mailed all the time, and a copy's mtime says when it was copied:
 * taken as the snapshot time, it makes valid licenses look expired.
 */

/** Where a snapshot time came from; `data`: the mtime was outside the export's bounds, a bound was used. */
export type SnapshotTimeSource = 'option' | 'header' | 'name' | 'mtime' | 'data';

/**
 * Time stamps recognised in file names, UTC: `20240612T093000Z` (what the simulator and
 * the collector scripts write), `2024-06-12T09-30-00Z`, `2024-06-12T09:30:00Z`,
 * `20240612-093000`, `2024-06-12_0930`, and a bare `2024-06-12` / `20240612` (midnight).
 */
const NAME_STAMPS: readonly { pattern: RegExp; toIso: (m: RegExpExecArray) => string }[] = [
  {
    pattern: /(\d{4})-?(\d{2})-?(\d{2})[T_ -]?(\d{2})[:-]?(\d{2})(?:[:-]?(\d{2}))?Z?(?!\d)/,
    toIso: (m) => `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}.000Z`,
  },
  { pattern: /(\d{4})-?(\d{2})-?(\d{2})(?!\d)/, toIso: (m) => `${m[1]}-${m[2]}-${m[3]}T00:00:00.000Z` },
];

/** The time stamp in a file name, as an ISO instant; undefined when it has none. */
export function snapshotTimeFromName(name: string): string | undefined {
  for (const { pattern, toIso } of NAME_STAMPS) {
    const match = pattern.exec(name);
    if (match === null) continue;
    const iso = toIso(match);
    const ms = Date.parse(iso);
    // A run of digits that is not a real date (e.g. a license id) is not a time stamp.
    if (!Number.isNaN(ms) && new Date(ms).toISOString() === iso) return iso;
  }
  return undefined;
}

/** Licenses the server still counts as issued: at the moment of the export none of them had expired. */
const LIVE: ReadonlySet<LicenseStatus> = new Set(['temporary', 'active', 'upgrade']);

/** What the licenses of an export prove about when it was taken. */
export interface SnapshotTimeBounds {
  /** The newest issue date: the export is not older (null: no license). */
  notBeforeMs: number | null;
  /** The earliest expiry among live licenses: the export is not newer (null: none). */
  notAfterMs: number | null;
}

/** Collects the bounds row by row (exports are streamed, never held for this). */
export class SnapshotTimeBoundsBuilder {
  private notBefore = Number.NEGATIVE_INFINITY;
  private notAfter = Number.POSITIVE_INFINITY;

  /** `expiresMs`: NaN or null when the license has no expiry. */
  add(status: LicenseStatus, issuedMs: number, expiresMs: number | null): void {
    if (Number.isFinite(issuedMs) && issuedMs > this.notBefore) this.notBefore = issuedMs;
    if (LIVE.has(status) && expiresMs !== null && Number.isFinite(expiresMs) && expiresMs < this.notAfter) this.notAfter = expiresMs;
  }

  bounds(): SnapshotTimeBounds {
    return {
      notBeforeMs: Number.isFinite(this.notBefore) ? this.notBefore : null,
      notAfterMs: Number.isFinite(this.notAfter) ? this.notAfter : null,
    };
  }
}

export interface ChosenSnapshotTime {
  /** ISO instant. */
  time: string;
  from: SnapshotTimeSource;
  /** Why the time is not the one first chosen (said on stderr and in summaries); null when it is. */
  warning: string | null;
}

/**
 * The snapshot time of one export. A time given explicitly (`option`, `header`) or in the
 * file name is taken as it is; the mtime (or another guess) is kept within the export's
 * bounds: later than the earliest expiry of a live license, it becomes that expiry; earlier
 * than the newest issue date, it becomes that date. With contradictory bounds (an expiry
 * before an issue date) the newest issue date wins: a license cannot be issued after the export.
 */
export function chooseSnapshotTime(input: {
  given?: { time: string; from: 'option' | 'header' | 'name' };
  guessMs: number;
  guessFrom: 'mtime';
  bounds: SnapshotTimeBounds;
  /** How the warning names the file. */
  display: string;
}): ChosenSnapshotTime {
  if (input.given !== undefined) return { time: input.given.time, from: input.given.from, warning: null };
  const guess = new Date(input.guessMs).toISOString();
  const { notBeforeMs, notAfterMs } = input.bounds;
  if (notBeforeMs !== null && input.guessMs < notBeforeMs) {
    const time = new Date(notBeforeMs).toISOString();
    return {
      time,
      from: 'data',
      warning: `${input.display}: its ${input.guessFrom} ${guess} is before the newest issue date in it; using ${time} as the snapshot time`,
    };
  }
  if (notAfterMs !== null && input.guessMs > notAfterMs) {
    const time = new Date(Math.max(notAfterMs, notBeforeMs ?? notAfterMs)).toISOString();
    return {
      time,
      from: 'data',
      warning:
        `${input.display}: its ${input.guessFrom} ${guess} is after the earliest expiry of a license it still lists as issued ` +
        `(a copy of an older export?); using ${time} as the snapshot time`,
    };
  }
  return { time: guess, from: input.guessFrom, warning: null };
}
