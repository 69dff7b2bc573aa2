import { LICENSE_STATUS_BY_CODE, buildEventId, isoFromMs, type CanonicalEvent, type EventSource, type LicenseStatus } from '@calwatch/model';
import { INGEST_ERRORS } from './errors';
import type { ColumnBlock } from './column-block';
import { LicenseTable } from './license-table';

/** One `Win32_TSIssuedLicense` table of one license server at one instant, held compactly. */
export interface TableSnapshot {
  /** Normalised license server name. */
  licenseServer: string;
  takenAt: string;
  table: LicenseTable;
  source: EventSource;
}

const ISSUED = 0;
const RETURNED = 1;
const REVOKED = 2;
const UPGRADED = 3;
const RENEWED = 4;

const PRE_PERMANENT: ReadonlySet<LicenseStatus> = new Set(['temporary', 'pending', 'unknown']);
const PERMANENT: ReadonlySet<LicenseStatus> = new Set(['active', 'upgrade']);
const INITIAL_EVENTS = 1024;

/**
 * The lifecycle events of one snapshot diff, column by column (about 40 bytes an event);
 * `event(k)` builds the k-th CanonicalEvent when it is needed, equal to what diffSnapshot
 * emits for the same snapshots. Time and id are at hand without building the event, for
 * sorting and de-duplication. The list holds the license rows its events carry (the
 * snapshot's own table for a first snapshot, where every row is an event; a copy of the few
 * rows that changed otherwise), so a superseded snapshot can be let go.
 */
export class LicenseEventList {
  size = 0;
  private capacity: number;
  private kinds: Uint8Array;
  /** Row in `table` of the license the event carries. */
  private rows: Uint32Array;
  /** A transition's former status (code) and expiry (ms, NaN for none). */
  private formerStatuses: Uint8Array;
  private formerExpiries: Float64Array;
  private times: Float64Array;
  /** The 128-bit event ids, 16 bytes each (the 32 hex digits as bytes). */
  private ids: Buffer;
  private readonly takenAtMs: number;
  private readonly takenAt: string;
  private readonly source: EventSource;
  /** Normalised name of the license server every event of the list is of. */
  readonly licenseServer: string;

  constructor(
    next: Pick<TableSnapshot, 'licenseServer' | 'takenAt' | 'source'>,
    /** The license rows of the events. */
    readonly table: LicenseTable,
    /** Made for exactly `events` events, its columns in `block` (see `sizedPartColumns`). */
    sized?: { events: number; block: ColumnBlock },
  ) {
    this.takenAt = next.takenAt;
    this.takenAtMs = Date.parse(next.takenAt);
    this.source = next.source;
    this.licenseServer = next.licenseServer;
    if (sized === undefined) {
      this.capacity = INITIAL_EVENTS;
      this.formerExpiries = new Float64Array(INITIAL_EVENTS);
      this.times = new Float64Array(INITIAL_EVENTS);
      this.rows = new Uint32Array(INITIAL_EVENTS);
      this.kinds = new Uint8Array(INITIAL_EVENTS);
      this.formerStatuses = new Uint8Array(INITIAL_EVENTS);
      this.ids = Buffer.alloc(INITIAL_EVENTS * 16);
      return;
    }
    const { events, block } = sized;
    this.capacity = events;
    this.formerExpiries = block.f64(events);
    this.times = block.f64(events);
    this.rows = block.u32(events);
    this.kinds = block.u8(events);
    this.formerStatuses = block.u8(events);
    this.ids = block.bytes(events * 16);
  }

  /** The columns `sizedPart` takes from its block, in the order it takes them. */
  static sizedPartColumns(events: number, textBytes: number): [elementBytes: number, length: number][] {
    return [...LicenseTable.columnsFor(events, textBytes), [8, events], [8, events], [4, events], [1, events], [1, events], [1, events * 16]];
  }

  /**
   * A list of the same snapshot for `events` of this list's events (added with `copyEvent`),
   * with a table of its own for their rows (`textBytes` of text), all in one block.
   */
  sizedPart(events: number, textBytes: number, block: ColumnBlock): LicenseEventList {
    const table = new LicenseTable({ rows: events, textBytes, block });
    return new LicenseEventList({ licenseServer: this.licenseServer, takenAt: this.takenAt, source: this.source }, table, { events, block });
  }

  /** Bytes of text the license row of event `k` holds. */
  textBytesOf(k: number): number {
    return this.table.rowTextBytes(this.rows[k]!);
  }

  /** Appends event `k` of `from` (a list of the same snapshot), its license row copied: `from` may then go. */
  copyEvent(from: LicenseEventList, k: number): void {
    const to = this.size;
    if (to === this.capacity) this.grow();
    this.kinds[to] = from.kinds[k]!;
    this.rows[to] = this.table.copyRow(from.table, from.rows[k]!);
    this.formerStatuses[to] = from.formerStatuses[k]!;
    this.formerExpiries[to] = from.formerExpiries[k]!;
    this.times[to] = from.times[k]!;
    from.ids.copy(this.ids, to * 16, k * 16, k * 16 + 16);
    this.size = to + 1;
  }

  timeMs(k: number): number {
    return this.times[k]!;
  }

  /** The normalised HWID of event `k`'s license, without building the event. */
  hwidNorm(k: number): string {
    return this.table.hwidNorm(this.rows[k]!);
  }

  /** The normalised computer name of event `k`'s license, without building the event. */
  computerNorm(k: number): string {
    return this.table.computerNorm(this.rows[k]!);
  }

  /** Word `w` (0..3) of the event id: comparing words in order compares the ids. */
  idWord(k: number, w: number): number {
    return this.ids.readUInt32BE(k * 16 + w * 4);
  }

  event(k: number): CanonicalEvent {
    const { table, takenAt, source, licenseServer } = this;
    const kind = this.kinds[k]!;
    const eventId = this.ids.toString('hex', k * 16, k * 16 + 16);
    const envelope = { schemaVersion: 1 as const, eventId, eventTime: takenAt, observedTime: takenAt, source, licenseServer };
    const license = table.fact(this.rows[k]!);
    if (kind === ISSUED) return { ...envelope, eventTime: license.issueDate, type: 'license.issued', license };
    if (kind === RETURNED) {
      const reason = returnReason(table, this.rows[k]!, this.takenAtMs);
      return { ...envelope, eventTime: reason === 'expired' ? license.expirationDate! : takenAt, type: 'license.returned', license, reason };
    }
    const previousStatus = LICENSE_STATUS_BY_CODE[this.formerStatuses[k]!]!;
    if (kind === REVOKED) return { ...envelope, type: 'license.revoked', license, previousStatus };
    if (kind === UPGRADED) return { ...envelope, type: 'license.upgraded', license, previousStatus };
    const formerExpiry = this.formerExpiries[k]!;
    return {
      ...envelope,
      type: 'license.renewed',
      license,
      previousExpirationDate: Number.isNaN(formerExpiry) ? null : isoFromMs(formerExpiry),
    };
  }

  /** Appends an event with its id as buildEventId made it. */
  push(kind: number, row: number, formerStatus: LicenseStatus | undefined, formerExpiry: number, timeMs: number, id: string): void {
    const k = this.size;
    if (k === this.capacity) this.grow();
    this.kinds[k] = kind;
    this.rows[k] = row;
    this.formerStatuses[k] = formerStatus === undefined ? 0 : LICENSE_STATUS_BY_CODE.indexOf(formerStatus);
    this.formerExpiries[k] = formerExpiry;
    this.times[k] = timeMs;
    this.ids.write(id, k * 16, 16, 'hex');
    this.size = k + 1;
  }

  private grow(): void {
    this.capacity *= 2;
    const kinds = new Uint8Array(this.capacity);
    kinds.set(this.kinds);
    this.kinds = kinds;
    const rows = new Uint32Array(this.capacity);
    rows.set(this.rows);
    this.rows = rows;
    const formerStatuses = new Uint8Array(this.capacity);
    formerStatuses.set(this.formerStatuses);
    this.formerStatuses = formerStatuses;
    const formerExpiries = new Float64Array(this.capacity);
    formerExpiries.set(this.formerExpiries);
    this.formerExpiries = formerExpiries;
    const times = new Float64Array(this.capacity);
    times.set(this.times);
    this.times = times;
    const ids = Buffer.alloc(this.capacity * 16);
    this.ids.copy(ids);
    this.ids = ids;
  }
}

function returnReason(table: LicenseTable, row: number, takenAtMs: number): 'expired' | 'released' | 'unknown' {
  if (table.expiresMs(row) <= takenAtMs) return 'expired';
  return table.status(row) === 'revoked' ? 'released' : 'unknown';
}

/**
 * Row numbers of a table in licenseId order, one per licenseId (the last row wins, as a
 * snapshot read into a map would). Tables usually come in licenseId order already.
 */
function rowsByLicenseId(table: LicenseTable): Uint32Array {
  const n = table.size;
  let ordered = true;
  for (let row = 1; row < n && ordered; row++) ordered = table.licenseId(row - 1) < table.licenseId(row);
  if (ordered) return Uint32Array.from({ length: n }, (_, row) => row);
  const order = Uint32Array.from({ length: n }, (_, row) => row).sort((a, b) => table.licenseId(a) - table.licenseId(b) || a - b);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const row = order[i]!;
    // Within equal ids rows are ascending: keep the last by overwriting.
    if (kept > 0 && table.licenseId(order[kept - 1]!) === table.licenseId(row)) order[kept - 1] = row;
    else order[kept++] = row;
  }
  return order.subarray(0, kept);
}

/**
 * diffSnapshot over compact tables: the same events (ids, order, contents) from the same
 * snapshots, without building a LicenseFact per row or a map of the whole table. The
 * previous snapshot is all the state a diff needs.
 */
export function diffTables(previous: TableSnapshot | undefined, next: TableSnapshot): { stale: boolean; events: LicenseEventList } {
  if (previous !== undefined && previous.licenseServer !== next.licenseServer) {
    throw INGEST_ERRORS.create(
      'INGEST_SNAPSHOT_SERVER_MISMATCH',
      `state of ${previous.licenseServer} cannot diff a snapshot of ${next.licenseServer}`,
      { context: { stateServer: previous.licenseServer, snapshotServer: next.licenseServer } },
    );
  }
  const takenAtMs = Date.parse(next.takenAt);
  const stale = previous !== undefined && takenAtMs <= Date.parse(previous.takenAt);
  // A first snapshot's rows are all events: the list keeps the table itself. Later ones copy
  // the rows of their events, so the snapshots they come from can go.
  const events = new LicenseEventList(next, previous === undefined ? next.table : new LicenseTable());
  if (stale) return { stale: true, events };

  const server = next.licenseServer;
  const now = next.table;
  const was = previous?.table;
  const own = (table: LicenseTable, row: number) => (events.table === table ? row : events.table.copyRow(table, row));
  const instance = (table: LicenseTable, row: number) =>
    `${server}\u001f${table.licenseId(row)}\u001f${isoFromMs(table.issuedMs(row))}\u001f${table.hwidNorm(row)}`;
  const iso = (ms: number) => (Number.isNaN(ms) ? null : isoFromMs(ms));

  const issued = (row: number) =>
    events.push(ISSUED, own(now, row), undefined, Number.NaN, now.issuedMs(row), buildEventId('license.issued', instance(now, row)));
  const returned = (row: number) => {
    const expiry = was!.expiresMs(row);
    const time = expiry <= takenAtMs ? expiry : takenAtMs;
    events.push(RETURNED, own(was!, row), undefined, Number.NaN, time, buildEventId('license.returned', instance(was!, row)));
  };
  const transition = (row: number, former: number) => {
    const status = now.status(row);
    const formerStatus = was!.status(former);
    const formerExpiry = was!.expiresMs(former);
    if (status === 'revoked' && formerStatus !== 'revoked') {
      events.push(REVOKED, own(now, row), formerStatus, formerExpiry, takenAtMs, buildEventId('license.revoked', instance(now, row)));
    } else if (PERMANENT.has(status) && PRE_PERMANENT.has(formerStatus)) {
      const id = buildEventId('license.upgraded', instance(now, row), formerStatus, status);
      events.push(UPGRADED, own(now, row), formerStatus, formerExpiry, takenAtMs, id);
    } else if (isLater(now.expiresMs(row), formerExpiry)) {
      const id = buildEventId('license.renewed', instance(now, row), iso(now.expiresMs(row)));
      events.push(RENEWED, own(now, row), formerStatus, formerExpiry, takenAtMs, id);
    }
  };

  const current = rowsByLicenseId(now);
  const before = was === undefined ? new Uint32Array(0) : rowsByLicenseId(was);
  let i = 0;
  let j = 0;
  while (i < current.length || j < before.length) {
    const nowId = i < current.length ? now.licenseId(current[i]!) : Number.POSITIVE_INFINITY;
    const wasId = j < before.length ? was!.licenseId(before[j]!) : Number.POSITIVE_INFINITY;
    if (nowId < wasId) {
      issued(current[i++]!);
    } else if (wasId < nowId) {
      returned(before[j++]!);
    } else {
      const row = current[i++]!;
      const former = before[j++]!;
      if (!now.sameHwid(row, was!, former) || now.issuedMs(row) !== was!.issuedMs(former)) {
        returned(former);
        issued(row);
      } else {
        transition(row, former);
      }
    }
  }
  return { stale: false, events };
}

/** A later expiry; none is never later, and any is later than none. */
function isLater(candidate: number, than: number): boolean {
  if (Number.isNaN(candidate)) return false;
  if (Number.isNaN(than)) return true;
  return candidate > than;
}
