import { LICENSE_STATUS_BY_CODE, isoFromMs, msFromIso, type LicenseFact, type LicenseStatus } from '@calwatch/model';
import type { ColumnBlock } from './column-block';

const STATUS_CODE = new Map<LicenseStatus, number>(LICENSE_STATUS_BY_CODE.map((status, code) => [status, code]));
/** hwid raw, hwid norm, computer raw, computer norm, user: the texts of one row, in this order. */
const TEXTS = 5;
const INITIAL_ROWS = 1024;

/** A row's texts are ASCII: they decode as Latin-1, which is cheaper than UTF-8. */
const ASCII = 1;
/** The raw HWID is its normal form as PowerShell renders it (not stored: `renderHwid`). */
const HWID_RENDERED = 2;
/** The normal computer name is the raw one (not stored). */
const COMPUTER_NORMAL = 4;
/** The license has no user (null, not an empty name). */
const NO_USER = 8;

/** `0x032d333d-0xed373dd4-0xe8c60997-0x38f25138-0x6847f22c`: how an export shows a normal HWID of 40 hex digits. */
const HWID_GROUPS = 5;
const HWID_GROUP = 8;

function isRenderedHwid(raw: string, norm: string): boolean {
  if (norm.length !== HWID_GROUPS * HWID_GROUP || raw.length !== HWID_GROUPS * (HWID_GROUP + 3) - 1) return false;
  for (let g = 0; g < HWID_GROUPS; g++) {
    const at = g * (HWID_GROUP + 3);
    if (raw.charCodeAt(at) !== 48 || raw.charCodeAt(at + 1) !== 120) return false;
    if (g < HWID_GROUPS - 1 && raw.charCodeAt(at + HWID_GROUP + 2) !== 45) return false;
    for (let i = 0; i < HWID_GROUP; i++) if (raw.charCodeAt(at + 2 + i) !== norm.charCodeAt(g * HWID_GROUP + i)) return false;
  }
  return true;
}

function renderHwid(norm: string): string {
  let raw = '';
  for (let g = 0; g < HWID_GROUPS; g++) raw += `${g === 0 ? '' : '-'}0x${norm.slice(g * HWID_GROUP, (g + 1) * HWID_GROUP)}`;
  return raw;
}

/**
 * The licenses of one snapshot of one license server, column by column: numbers in typed
 * arrays, the texts as UTF-8 in one buffer. A row costs about 100 bytes where a LicenseFact
 * object costs about 500, and no row keeps alive the chunk of text it was read from (a field
 * sliced out of a chunk would, and with it the whole export). A text that follows from
 * another (the raw HWID as PowerShell renders the normal one, a computer name already in its
 * normal form) is not stored: a million-row export holds about 60 MB less. `fact(row)`
 * rebuilds a fact equal to the one added.
 */
export class LicenseTable {
  size = 0;
  private capacity: number;
  private licenseIds: Uint32Array;
  private keyPackIds: Uint32Array;
  private issued: Float64Array;
  /** NaN: no expiration date. */
  private expires: Float64Array;
  private statuses: Uint8Array;
  /** ASCII, HWID_RENDERED, COMPUTER_NORMAL, NO_USER. */
  private flags: Uint8Array;
  /** End offset in `text` of each of the row's TEXTS; a row starts where the previous ended. */
  private ends: Uint32Array;
  private text: Buffer;
  private textUsed = 0;

  /**
   * An empty table that grows as rows come; or, `sized`, one made for exactly that many rows
   * and bytes of text, its columns in `block` (see `columnsFor`).
   */
  constructor(sized?: { rows: number; textBytes: number; block: ColumnBlock }) {
    if (sized === undefined) {
      this.capacity = INITIAL_ROWS;
      this.issued = new Float64Array(INITIAL_ROWS);
      this.expires = new Float64Array(INITIAL_ROWS);
      this.licenseIds = new Uint32Array(INITIAL_ROWS);
      this.keyPackIds = new Uint32Array(INITIAL_ROWS);
      this.ends = new Uint32Array(INITIAL_ROWS * TEXTS);
      this.statuses = new Uint8Array(INITIAL_ROWS);
      this.flags = new Uint8Array(INITIAL_ROWS);
      this.text = Buffer.allocUnsafe(INITIAL_ROWS * 128);
      return;
    }
    const { rows, textBytes, block } = sized;
    this.capacity = rows;
    this.issued = block.f64(rows);
    this.expires = block.f64(rows);
    this.licenseIds = block.u32(rows);
    this.keyPackIds = block.u32(rows);
    this.ends = block.u32(rows * TEXTS);
    this.statuses = block.u8(rows);
    this.flags = block.u8(rows);
    this.text = block.bytes(textBytes);
  }

  /** The columns a sized table takes from its block, in the order it takes them. */
  static columnsFor(rows: number, textBytes: number): [elementBytes: number, length: number][] {
    return [[8, rows], [8, rows], [4, rows], [4, rows], [4, rows * TEXTS], [1, rows], [1, rows], [1, textBytes]];
  }

  add(fact: LicenseFact): number {
    const row = this.size;
    if (row === this.capacity) this.grow();
    this.licenseIds[row] = fact.licenseId;
    this.keyPackIds[row] = fact.keyPackId;
    this.issued[row] = msFromIso(fact.issueDate);
    this.expires[row] = fact.expirationDate === null ? Number.NaN : msFromIso(fact.expirationDate);
    this.statuses[row] = STATUS_CODE.get(fact.status)!;
    const base = row * TEXTS;
    const { hwid, computer } = fact;
    const user = fact.user ?? '';
    let flags = fact.user === null ? NO_USER : 0;
    let hwidRaw = hwid.raw;
    let computerNorm = computer.norm;
    if (isRenderedHwid(hwidRaw, hwid.norm)) {
      flags |= HWID_RENDERED;
      hwidRaw = '';
    }
    if (computerNorm === computer.raw) {
      flags |= COMPUTER_NORMAL;
      computerNorm = '';
    }
    // One write for the five texts; when they are ASCII (bytes = characters, as in every real
    // export) the ends follow from their lengths, otherwise they are written one by one.
    const start = this.textUsed;
    const end = this.write(hwidRaw + hwid.norm + computer.raw + computerNorm + user);
    if (end - start === hwidRaw.length + hwid.norm.length + computer.raw.length + computerNorm.length + user.length) {
      this.ends[base] = start + hwidRaw.length;
      this.ends[base + 1] = this.ends[base]! + hwid.norm.length;
      this.ends[base + 2] = this.ends[base + 1]! + computer.raw.length;
      this.ends[base + 3] = this.ends[base + 2]! + computerNorm.length;
      this.ends[base + 4] = end;
      flags |= ASCII;
    } else {
      this.textUsed = start;
      this.ends[base] = this.write(hwidRaw);
      this.ends[base + 1] = this.write(hwid.norm);
      this.ends[base + 2] = this.write(computer.raw);
      this.ends[base + 3] = this.write(computerNorm);
      this.ends[base + 4] = this.write(user);
    }
    this.flags[row] = flags;
    this.size = row + 1;
    return row;
  }

  /**
   * Gives back what growing by doubling reserved (up to half of it) once the snapshot is
   * read; the table stays usable and grows again if rows are added.
   */
  trim(): void {
    const rows = Math.max(this.size, 1);
    this.licenseIds = this.licenseIds.slice(0, rows);
    this.keyPackIds = this.keyPackIds.slice(0, rows);
    this.issued = this.issued.slice(0, rows);
    this.expires = this.expires.slice(0, rows);
    this.statuses = this.statuses.slice(0, rows);
    this.flags = this.flags.slice(0, rows);
    this.ends = this.ends.slice(0, rows * TEXTS);
    this.capacity = rows;
    const text = Buffer.allocUnsafe(Math.max(this.textUsed, 1));
    this.text.copy(text, 0, 0, this.textUsed);
    this.text = text;
  }

  /** Appends row `row` of `from` (a copy: `from` may then go). */
  copyRow(from: LicenseTable, row: number): number {
    const to = this.size;
    if (to === this.capacity) this.grow();
    this.licenseIds[to] = from.licenseIds[row]!;
    this.keyPackIds[to] = from.keyPackIds[row]!;
    this.issued[to] = from.issued[row]!;
    this.expires[to] = from.expires[row]!;
    this.statuses[to] = from.statuses[row]!;
    this.flags[to] = from.flags[row]!;
    const at = row * TEXTS;
    const start = at === 0 ? 0 : from.ends[at - 1]!;
    const length = from.ends[at + TEXTS - 1]! - start;
    if (this.textUsed + length > this.text.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.text.length * 2, this.textUsed + length));
      this.text.copy(bigger, 0, 0, this.textUsed);
      this.text = bigger;
    }
    from.text.copy(this.text, this.textUsed, start, start + length);
    const shift = this.textUsed - start;
    for (let f = 0; f < TEXTS; f++) this.ends[to * TEXTS + f] = from.ends[at + f]! + shift;
    this.textUsed += length;
    this.size = to + 1;
    return to;
  }

  /** Bytes of text the rows hold. */
  get textBytes(): number {
    return this.textUsed;
  }

  /** Bytes of text one row holds (what `copyRow` copies of it). */
  rowTextBytes(row: number): number {
    const at = row * TEXTS;
    return this.ends[at + TEXTS - 1]! - (at === 0 ? 0 : this.ends[at - 1]!);
  }

  licenseId(row: number): number {
    return this.licenseIds[row]!;
  }

  issuedMs(row: number): number {
    return this.issued[row]!;
  }

  /** NaN when the license has no expiration date. */
  expiresMs(row: number): number {
    return this.expires[row]!;
  }

  status(row: number): LicenseStatus {
    return LICENSE_STATUS_BY_CODE[this.statuses[row]!]!;
  }

  hwidNorm(row: number): string {
    return this.textAt(row, 1);
  }

  /** The normalised computer name (what `fact(row).computer.norm` is). */
  computerNorm(row: number): string {
    return this.textAt(row, (this.flags[row]! & COMPUTER_NORMAL) === 0 ? 3 : 2);
  }

  /** Same normalised HWID as `other`'s row, compared as bytes. */
  sameHwid(row: number, other: LicenseTable, otherRow: number): boolean {
    const at = row * TEXTS;
    const otherAt = otherRow * TEXTS;
    return this.text.compare(other.text, other.ends[otherAt]!, other.ends[otherAt + 1]!, this.ends[at]!, this.ends[at + 1]!) === 0;
  }

  fact(row: number): LicenseFact {
    const expires = this.expires[row]!;
    const flags = this.flags[row]!;
    const hwid = this.textAt(row, 1);
    const computer = this.textAt(row, 2);
    return {
      licenseId: this.licenseIds[row]!,
      keyPackId: this.keyPackIds[row]!,
      hwid: { raw: (flags & HWID_RENDERED) === 0 ? this.textAt(row, 0) : renderHwid(hwid), norm: hwid },
      computer: { raw: computer, norm: (flags & COMPUTER_NORMAL) === 0 ? this.textAt(row, 3) : computer },
      user: (flags & NO_USER) !== 0 ? null : this.textAt(row, 4),
      issueDate: isoFromMs(this.issued[row]!),
      expirationDate: Number.isNaN(expires) ? null : isoFromMs(expires),
      status: this.status(row),
    };
  }

  private textAt(row: number, field: number): string {
    const at = row * TEXTS + field;
    const start = at === 0 ? 0 : this.ends[at - 1]!;
    const end = this.ends[at]!;
    if (start === end) return '';
    return this.text.toString((this.flags[row]! & ASCII) !== 0 ? 'latin1' : 'utf8', start, end);
  }

  private write(value: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.textUsed + value.length * 3 > this.text.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.text.length * 2, this.textUsed + value.length * 3));
      this.text.copy(bigger, 0, 0, this.textUsed);
      this.text = bigger;
    }
    this.textUsed += this.text.write(value, this.textUsed, 'utf8');
    return this.textUsed;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    const grown = <T extends Uint32Array | Float64Array | Uint8Array>(old: T, make: (n: number) => T, width = 1): T => {
      const next = make(capacity * width);
      next.set(old);
      return next;
    };
    this.licenseIds = grown(this.licenseIds, (n) => new Uint32Array(n));
    this.keyPackIds = grown(this.keyPackIds, (n) => new Uint32Array(n));
    this.issued = grown(this.issued, (n) => new Float64Array(n));
    this.expires = grown(this.expires, (n) => new Float64Array(n));
    this.statuses = grown(this.statuses, (n) => new Uint8Array(n));
    this.flags = grown(this.flags, (n) => new Uint8Array(n));
    this.ends = grown(this.ends, (n) => new Uint32Array(n), TEXTS);
    this.capacity = capacity;
  }
}
