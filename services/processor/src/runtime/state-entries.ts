import { hash } from 'node:crypto';
import type { OutgoingRecord } from '@calwatch/kafka';
import {
  type Decoded,
  type DeferredStageState,
  type StageName,
  type StageStates,
  type LicenseRecord,
  compareDroppedCals,
  compareLicenseRecords,
  decodeByComputerState,
  droppedCalKey,
  decodeByHwidState,
  decodeByServerState,
  licenseRecordKey,
} from '../core/index';
import { buildChangelogRecord } from './changelog';
import type { TaskProblem } from './task';

/**
 * A stage's state as small changelog entries, as Kafka Streams' key-value stores keep it:
 * a head (the scalar part) and one entry per element of each collection that grows with
 * the fleet (licenses of an HWID, HWIDs of a name, open findings, revisions, revoked CALs
 * and claims of a server). A change writes only the entries whose content changed, so a
 * record's size does not depend on how many devices, licenses or reissues there are.
 */

/** A collection inside a state, cut into one entry per element. */
type PartSpec =
  | { code: string; path: readonly string[]; kind: 'map'; inPlace?: boolean }
  | {
      code: string;
      path: readonly string[];
      kind: 'list';
      inPlace?: boolean;
      /** The state leaves the field out when the list is empty. */
      optional?: boolean;
      keyOf(element: never): string;
      compare(a: never, b: never): number;
    };

interface StageLayout<S> {
  /** One letter per stage in the entry key. */
  code: string;
  /**
   * The stage never changes a part of a state it returned, it replaces it (copy-on-write.test.ts
   * holds this for by-hwid and by-computer), so a part that is the same object is unchanged.
   */
  copyOnWrite: boolean;
  parts: readonly PartSpec[];
  decode(json: unknown): Decoded<S>;
}

const HWID_ENTRY_ORDER = (a: { firstSeen: number; hwid: string }, b: { firstSeen: number; hwid: string }) =>
  a.firstSeen - b.firstSeen || (a.hwid < b.hwid ? -1 : a.hwid > b.hwid ? 1 : 0);

const LAYOUTS: { readonly [K in StageName]: StageLayout<StageStates[K]> } = {
  'by-hwid': {
    code: 'h',
    copyOnWrite: true,
    decode: decodeByHwidState,
    parts: [
      { code: 'l', path: ['licenses'], kind: 'list', keyOf: (r: LicenseRecord) => licenseRecordKey(r), compare: compareLicenseRecords },
      { code: 't', path: ['tracks'], kind: 'map' },
    ],
  },
  'by-computer': {
    code: 'c',
    copyOnWrite: true,
    decode: decodeByComputerState,
    parts: [
      { code: 'h', path: ['hwids'], kind: 'list', keyOf: (h: { hwid: string }) => h.hwid, compare: HWID_ENTRY_ORDER },
      { code: 't', path: ['tracks'], kind: 'map' },
      { code: 'd', path: ['dropped'], kind: 'list', optional: true, keyOf: droppedCalKey, compare: compareDroppedCals },
    ],
  },
  'by-server': {
    code: 's',
    // Replaces its open findings, revisions, revoked CALs, key packs pool and spike tracks; only a
    // product's counters change in place, so those parts are always serialised and compared.
    copyOnWrite: true,
    decode: decodeByServerState,
    parts: [
      { code: 'k', path: ['keyPacks'], kind: 'map' },
      { code: 'p', path: ['products'], kind: 'map', inPlace: true },
      { code: 'r', path: ['revoked'], kind: 'map' },
      { code: 'o', path: ['open'], kind: 'map' },
      { code: 'v', path: ['revisions'], kind: 'map' },
      { code: 'f', path: ['poolTracks'], kind: 'map' },
      { code: 'x', path: ['spikeTracks'], kind: 'map' },
      { code: 'c', path: ['plan', 'claims'], kind: 'map' },
    ],
  },
};

const STAGE_BY_CODE = new Map<string, StageName>(Object.entries(LAYOUTS).map(([stage, layout]) => [layout.code, stage as StageName]));

type Json = Record<string, unknown>;

/** The collection at `path`, read from a state. */
function readPath(state: Json, path: readonly string[]): unknown {
  let value: unknown = state;
  for (const field of path) value = (value as Json | undefined)?.[field];
  return value;
}

/** A shallow copy of `state` along `path` with the last field removed (the head keeps no collection). */
function withoutPath(head: Json, path: readonly string[]): Json {
  const [first, ...rest] = path;
  const copy = { ...head };
  if (rest.length === 0) delete copy[first!];
  else copy[first!] = withoutPath((head[first!] ?? {}) as Json, rest);
  return copy;
}

function withPath(head: Json, path: readonly string[], value: unknown): Json {
  const [first, ...rest] = path;
  return { ...head, [first!]: rest.length === 0 ? value : withPath((head[first!] ?? {}) as Json, rest, value) };
}

/**
 * A collection this small stays in the head: most HWIDs hold one license and most names one
 * HWID, and one record for them is half the writes of a head plus a part.
 */
const INLINE_MAX = 4;

function sizeOf(collection: unknown): number {
  if (collection === undefined || collection === null) return 0;
  return Array.isArray(collection) ? collection.length : Object.keys(collection).length;
}

/**
 * Every part, then the head: [entry key, value, whether the same object means the same
 * content]. The head goes last so that a write cut short never leaves a head that points at
 * parts not written yet.
 */
function splitState(stage: StageName, key: string, state: Json): Array<[string, unknown, boolean]> {
  const layout = LAYOUTS[stage];
  let head = state;
  const entries: Array<[string, unknown, boolean]> = [];
  for (const part of layout.parts) {
    const collection = readPath(state, part.path);
    if (sizeOf(collection) <= INLINE_MAX) continue;
    head = withoutPath(head, part.path);
    const shared = layout.copyOnWrite && part.inPlace !== true;
    if (part.kind === 'map') {
      for (const [sub, value] of Object.entries(collection as Json)) entries.push([partKey(layout.code, key, part.code, sub), value, shared]);
    } else {
      for (const element of collection as never[]) entries.push([partKey(layout.code, key, part.code, part.keyOf(element)), element, shared]);
    }
  }
  entries.push([headKey(layout.code, key), head, false]);
  return entries;
}

function headKey(code: string, key: string): string {
  return JSON.stringify([code, key]);
}

function partKey(code: string, key: string, part: string, sub: string): string {
  return JSON.stringify([code, key, part, sub]);
}

/**
 * The strings of an entry key written without escapes (`["h","0a1b…"]`, every key calwatch
 * writes for its HWIDs and names), read without JSON.parse: a restore reads one per record.
 * With no backslash in it, no string can hold a quote, so the quotes split it exactly.
 * Undefined for anything else (escapes, control characters, another shape): JSON.parse decides.
 */
function splitPlainEntryKey(text: string): string[] | undefined {
  const end = text.length - 2;
  if (end < 2 || text.charCodeAt(0) !== 91 /* [ */ || text.charCodeAt(1) !== 34 /* " */ || text.charCodeAt(end) !== 34 || text.charCodeAt(end + 1) !== 93 /* ] */) {
    return undefined;
  }
  const strings: string[] = [];
  let start = 2;
  for (let i = 2; i <= end; i++) {
    const c = text.charCodeAt(i);
    // Control characters and surrogates (a lone one JSON.stringify would escape) go to JSON.parse.
    if (c < 0x20 || c === 92 /* \ */ || (c >= 0xd800 && c <= 0xdfff)) return undefined;
    if (c !== 34) continue;
    strings.push(text.slice(start, i));
    if (i === end) return strings;
    // Between two strings: exactly `","`.
    if (text.charCodeAt(i + 1) !== 44 /* , */ || text.charCodeAt(i + 2) !== 34) return undefined;
    i += 2;
    start = i + 1;
  }
  return undefined;
}

/** Entry keys are JSON arrays; task meta and buffer keys start with U+0000. */
export function isStateEntryKey(key: string): boolean {
  return key.startsWith('[');
}

/** The digest of an entry never hashed (a head, or an entry read back at restore): matches no real digest. */
const UNHASHED = '';

function digest(json: string): string {
  return hash('sha1', json, 'base64');
}

/**
 * A state's head record holds `[dueAt, head]`: when the state's timer is due (null: no timer)
 * and the head itself, so that a restore arms the timer from the first characters of the
 * value without decoding the state. (A record header would do, at several times the client's
 * encoding cost per record.) A head written before this is the bare object: its due time is
 * unknown until the state is decoded.
 */
function wrapHead(dueAt: number | null, json: string): string {
  return `[${dueAt === null ? 'null' : dueAt},${json}]`;
}

/**
 * What a head record's value says: the due time (undefined: unknown) and where the head's JSON
 * is in it (bytes `start` to `end`; all of it for a bare head).
 */
interface HeadRecord {
  dueAt: number | null | undefined;
  start: number;
  end: number;
}

function readHeadRecord(value: Buffer): HeadRecord {
  const comma = value[0] === 91 /* [ */ && value[value.length - 1] === 93 /* ] */ ? value.indexOf(44 /* , */) : -1;
  if (comma > 0) {
    const due = value.toString('latin1', 1, comma);
    const dueAt = due === 'null' ? null : Number(due);
    if (dueAt === null || Number.isSafeInteger(dueAt)) return { dueAt, start: comma + 1, end: value.length - 1 };
  }
  // A bare head (written before the due time was), or a due time that is not one.
  return { dueAt: undefined, start: 0, end: value.length };
}

/** The head's JSON of a head record's value. */
function headJson(value: Buffer): string {
  const { start, end } = readHeadRecord(value);
  return value.toString('utf8', start, end);
}

/**
 * A restored state's entries as read back, not parsed and not even decoded as text: the head
 * record's value alone (most states), or it and each part element's value. What the pipeline
 * keeps of a deferred state. The bytes are the ones the Kafka client read: made into strings,
 * a restore's 100,000 values (about 120 MB) were allocated as young objects that all survive,
 * copied twice by the scavenger and then held in the old generation; as bytes they stay
 * outside the heap, and a state is decoded from them at its first use.
 */
type RestoredSource = Buffer | { head: Buffer; parts: ReadonlyMap<string, ReadonlyMap<string, Buffer>> };

interface Restoring {
  code: string;
  key: string;
  /** The head record's value. */
  head: Buffer | undefined;
  /** From the head record; undefined when it does not say (written before it did). */
  dueAt: number | null | undefined;
  /** Absent until the state's first part arrives (most states are a head alone). */
  parts: Map<string, Map<string, Buffer>> | undefined;
}

/** What the changelog holds of an entry: the digest of its JSON and its size. */
interface Written {
  digest: string;
  /** UTF-8 bytes of the entry's key and value as written to the changelog. */
  bytes: number;
}

/** A head-only state's size as the entries map the general path works on. */
function headOnly(id: string, bytes: number): Map<string, Written> {
  return new Map([[id, { digest: UNHASHED, bytes }]]);
}

/** Entries kept as the head's size alone when the head is all there is (and it was not hashed). */
function compact(id: string, entries: Map<string, Written>): Map<string, Written> | number {
  if (entries.size !== 1) return entries;
  const head = entries.get(id);
  return head !== undefined && head.digest === UNHASHED ? head.bytes : entries;
}

/** Entries of one stage's states a task holds, and their encoded bytes (the metrics' state size). */
export interface StoreSize {
  store: StageName;
  entries: number;
  bytes: number;
}

function entryBytes(entryKey: string, value: string | Buffer): number {
  return Buffer.byteLength(entryKey) + Buffer.byteLength(value);
}

/**
 * The changelog side of a task's stage states: writes the entries of the keys that changed
 * whose content differs from what was last written (a digest per entry), tombstones entries
 * that went away, and puts states back together on restore.
 */
export class StateEntries {
  /**
   * What was last written per state (`code` + key): entry key -> digest of its JSON and its
   * size; for a state written as its head alone (most of them: one license, one HWID), just
   * the head's size, so 100,000 small states do not keep a map each.
   */
  private readonly written = new Map<string, Map<string, Written> | number>();
  /** Entries and bytes per stage code, kept as `written` changes (scraped, never recounted). */
  private readonly totals = new Map<string, { entries: number; bytes: number }>();
  /** Digests of parts of copy-on-write stages, by object: an unchanged part is the same object. */
  private readonly digestOf = new WeakMap<object, string>();
  private restoring = new Map<string, Restoring>();

  constructor(
    private readonly topic: string,
    private readonly partition: number,
  ) {}

  /**
   * Appends the changelog records that bring the stored entries of one state up to date; the
   * head carries `dueAt`, when the state's timer is due.
   */
  write(stage: StageName, key: string, state: unknown, dueAt: number | null, into: OutgoingRecord[]): void {
    const code = LAYOUTS[stage].code;
    const id = headKey(code, key);
    const stored = this.written.get(id);
    const entries = state === undefined ? [] : splitState(stage, key, state as Json);
    if (entries.length === 1 && typeof stored !== 'object') {
      // Head alone, before and after (the usual small state): no map, no digest.
      const json = wrapHead(dueAt, JSON.stringify(entries[0]![1]));
      const bytes = entryBytes(id, json);
      into.push({ topic: this.topic, partition: this.partition, key: id, value: json });
      this.count(code, stored, -1);
      this.add(code, bytes, 1);
      this.written.set(id, bytes);
      return;
    }
    const before = typeof stored === 'number' ? headOnly(id, stored) : stored;
    const after = new Map<string, Written>();
    for (const [entryKey, value, sameObjectSameContent] of entries) {
      const shared = sameObjectSameContent && typeof value === 'object' && value !== null;
      // A part the stage did not replace is the object already written: no need to serialise it.
      const known = shared ? this.digestOf.get(value) : undefined;
      const previous = before?.get(entryKey);
      if (known !== undefined && previous?.digest === known) {
        after.set(entryKey, previous);
        continue;
      }
      if (entryKey === id) {
        // The head is not hashed: a state is written because a step changed it, and its head
        // (its clock, its small collections) changed with it nearly every time.
        const head = wrapHead(dueAt, JSON.stringify(value));
        after.set(entryKey, { digest: UNHASHED, bytes: entryBytes(entryKey, head) });
        into.push({ topic: this.topic, partition: this.partition, key: entryKey, value: head });
        continue;
      }
      const json = JSON.stringify(value);
      const d = digest(json);
      if (shared) this.digestOf.set(value, d);
      if (previous?.digest === d) after.set(entryKey, previous);
      else {
        after.set(entryKey, { digest: d, bytes: entryBytes(entryKey, json) });
        into.push({ topic: this.topic, partition: this.partition, key: entryKey, value: json });
      }
    }
    if (before !== undefined) {
      for (const entryKey of before.keys()) if (!after.has(entryKey)) into.push(buildChangelogRecord(this.topic, this.partition, entryKey, null));
    }
    this.count(code, before, -1);
    this.count(code, after, 1);
    if (after.size === 0) this.written.delete(id);
    else this.written.set(id, compact(id, after));
  }

  /** Adds (sign 1) or removes (-1) a state's entries (or its head's size alone) to its stage's totals. */
  private count(code: string, entries: ReadonlyMap<string, Written> | number | undefined, sign: 1 | -1): void {
    if (typeof entries === 'number') this.add(code, entries, sign);
    else if (entries !== undefined) for (const w of entries.values()) this.add(code, w, sign);
  }

  private add(code: string, entry: Written | number, sign: 1 | -1): void {
    let total = this.totals.get(code);
    if (total === undefined) this.totals.set(code, (total = { entries: 0, bytes: 0 }));
    total.entries += sign;
    total.bytes += sign * (typeof entry === 'number' ? entry : entry.bytes);
  }

  /** Forgets a state restored but left out (stale, unknown stage, failed its schema). */
  private forget(id: string, code: string): void {
    this.count(code, this.written.get(id), -1);
    this.written.delete(id);
  }

  /**
   * Restore: one state entry record (last one per key wins; a tombstone removes). Only its key
   * is parsed: the value stays the bytes read until the state is first used (`load`).
   */
  restore(entryKey: string, value: Buffer | null, problems: TaskProblem[]): void {
    const plain = splitPlainEntryKey(entryKey);
    let parsed: unknown = plain;
    if (plain === undefined) {
      try {
        parsed = JSON.parse(entryKey);
      } catch {
        // A tombstone of a key no state can have removes nothing.
        if (value !== null) problems.push({ code: 'PROCESSOR_CHANGELOG_RECORD_INVALID', key: entryKey, message: 'state entry key is not JSON' });
        return;
      }
    }
    if (!Array.isArray(parsed) || (parsed.length !== 2 && parsed.length !== 4) || !parsed.every((p) => typeof p === 'string')) {
      if (value !== null) problems.push({ code: 'PROCESSOR_CHANGELOG_RECORD_INVALID', key: entryKey, message: 'state entry key has an unknown shape' });
      return;
    }
    const [code, key, part, sub] = parsed as [string, string, string | undefined, string | undefined];
    const head = part === undefined && value !== null ? readHeadRecord(value) : undefined;
    // A plain head key is written exactly as headKey writes it.
    const id = plain !== undefined && part === undefined ? entryKey : headKey(code, key);
    const stored = this.written.get(id);
    let entry = this.restoring.get(id);
    if (value !== null && head !== undefined && (stored === undefined || typeof stored === 'number')) {
      // The usual state, a head alone (seen for the first time, or again before the broker
      // compacted the earlier ones away): its size is all that is kept (as write keeps it),
      // no map of entries.
      const bytes = entryBytes(entryKey, value);
      if (stored !== undefined) this.add(code, stored, -1);
      this.written.set(id, bytes);
      this.add(code, bytes, 1);
      if (entry === undefined) this.restoring.set(id, { code, key, head: value, dueAt: head.dueAt, parts: undefined });
      else {
        entry.head = value;
        entry.dueAt = head.dueAt;
      }
      return;
    }
    let digests = typeof stored === 'number' ? headOnly(id, stored) : stored;
    if (digests !== stored) this.written.set(id, digests!);
    if (value === null) {
      const gone = digests?.get(entryKey);
      if (gone !== undefined) {
        digests!.delete(entryKey);
        this.add(code, gone, -1);
        // Nothing left of the state: as if it had never been written.
        if (digests!.size === 0) this.written.delete(id);
      }
      if (part === undefined) {
        if (entry !== undefined) entry.head = undefined;
      } else entry?.parts?.get(part)?.delete(sub!);
      return;
    }
    if (digests === undefined) this.written.set(id, (digests = new Map()));
    // Not hashed here (a restore reads every entry, most never change again): the first write
    // of a state after a restore writes its entries once more.
    const previous = digests.get(entryKey);
    if (previous !== undefined) this.add(code, previous, -1);
    const restored: Written = { digest: UNHASHED, bytes: entryBytes(entryKey, value) };
    digests.set(entryKey, restored);
    this.add(code, restored, 1);
    if (entry === undefined) this.restoring.set(id, (entry = { code, key, head: undefined, dueAt: undefined, parts: undefined }));
    if (head !== undefined) {
      entry.head = value;
      entry.dueAt = head.dueAt;
    } else {
      const parts = (entry.parts ??= new Map());
      let map = parts.get(part);
      if (map === undefined) parts.set(part, (map = new Map()));
      map.set(sub!, value);
    }
  }

  /**
   * Ends a restore: every state with a head, undecoded, with its timer's due time (for the
   * pipeline to defer); the entries of states without a head are forgotten.
   */
  finishRestore(problems: TaskProblem[]): DeferredStageState[] {
    const states: DeferredStageState[] = [];
    for (const [id, entry] of this.restoring) {
      const { code, key, head, parts } = entry;
      const stage = STAGE_BY_CODE.get(code);
      if (stage === undefined) {
        problems.push({ code: 'PROCESSOR_CHANGELOG_RECORD_INVALID', key, message: `unknown state code ${code}` });
        this.forget(id, code);
        continue;
      }
      if (head === undefined) {
        // Parts whose head was deleted: left over from a state that no longer exists.
        if (parts !== undefined && parts.size > 0) this.forget(id, code);
        continue;
      }
      const source: RestoredSource = parts === undefined || parts.size === 0 ? head : { head, parts };
      states.push({ stage, key, dueAt: entry.dueAt, source });
    }
    for (const [id, entries] of this.written) if (typeof entries === 'object') this.written.set(id, compact(id, entries));
    this.restoring = new Map();
    return states;
  }

  /**
   * A deferred state put back together and decoded by its stage's schema, at its first use;
   * undefined (with a problem, and its entries forgotten) when it cannot be.
   */
  load<K extends StageName>(stage: K, key: string, source: unknown, problems: TaskProblem[]): StageStates[K] | undefined {
    const layout: StageLayout<StageStates[K]> = LAYOUTS[stage];
    const id = headKey(layout.code, key);
    const restored = source as RestoredSource;
    const fail = (code: string, message: string): undefined => {
      problems.push({ code, key, message });
      this.forget(id, layout.code);
      return undefined;
    };
    let json: Json;
    const parts = new Map<string, Map<string, unknown>>();
    try {
      const whole = Buffer.isBuffer(restored);
      json = JSON.parse(headJson(whole ? restored : restored.head)) as Json;
      if (!whole) {
        for (const [part, elements] of restored.parts) {
          const values = new Map<string, unknown>();
          for (const [sub, bytes] of elements) values.set(sub, JSON.parse(bytes.toString('utf8')));
          parts.set(part, values);
        }
      }
    } catch {
      return fail('PROCESSOR_CHANGELOG_RECORD_INVALID', `${stage} state entry is not JSON`);
    }
    if (typeof json === 'object' && json !== null) {
      for (const part of layout.parts) {
        // Held in the head (small): parts left from before are stale.
        if (readPath(json, part.path) !== undefined) continue;
        const values = parts.get(part.code) ?? new Map<string, unknown>();
        if (values.size === 0 && part.kind === 'list' && part.optional === true) continue;
        json =
          part.kind === 'map'
            ? withPath(json, part.path, Object.fromEntries(values))
            : withPath(json, part.path, [...values.values()].sort(part.compare as (a: unknown, b: unknown) => number));
      }
    }
    const decoded = layout.decode(json);
    return decoded.ok ? decoded.state : fail(decoded.error.code, decoded.error.message);
  }

  /** Entries this task holds in its changelog (for status). */
  get size(): number {
    let n = 0;
    for (const total of this.totals.values()) n += total.entries;
    return n;
  }

  /** Entries and their encoded bytes per stage (for metrics). */
  sizes(): StoreSize[] {
    const sizes: StoreSize[] = [];
    for (const [stage, layout] of Object.entries(LAYOUTS) as Array<[StageName, StageLayout<unknown>]>) {
      const total = this.totals.get(layout.code);
      sizes.push({ store: stage, entries: total?.entries ?? 0, bytes: total?.bytes ?? 0 });
    }
    return sizes;
  }
}

