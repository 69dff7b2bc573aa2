import { ColumnBlock, LicenseEventList } from '@calwatch/ingest';
import { isLicenseLifecycleEvent, type CanonicalEvent } from '@calwatch/model';
import { computerKey, type SingleUseKeys } from '@calwatch/processor/core';
import { RepeatedKeys, singleUseKeys } from './analyze-single-use';

type Part = LicenseEventList | readonly CanonicalEvent[];

/**
 * Events per window of a drain: a window's copies take one block of about 150 bytes an event,
 * 38 MiB here, past the 32 MiB from which the C allocator maps each block on its own (and so
 * gives it back when freed).
 */
const DRAIN_WINDOW_EVENTS = 262_144;

/** A stretch of the stream in order: its events' parts (copies, for diff events) and place in them. */
interface Window {
  parts: Part[];
  /** Per event, in order: its part (index into `parts`) and its index there. */
  partOf: Uint32Array;
  indexOf: Uint32Array;
}

/**
 * The whole input as one event stream in (event time, eventId) order, duplicates (same
 * eventId) kept once — the first added. Snapshot diffs stay compact (LicenseEventList) and
 * each event is built only when it is handed out, so the stream costs about 60 bytes an
 * event instead of the event objects; the pipeline then keeps only what detection needs.
 */
export class EventLog {
  private readonly parts: Part[] = [];
  private total = 0;
  private order: Uint32Array | undefined;
  private starts: number[] = [];
  private unique = 0;
  /** Drained: every event was handed out and let go. */
  private drained = false;

  add(part: Part): void {
    if (this.order !== undefined) throw new Error('EventLog.add after the log was sorted');
    const size = Array.isArray(part) ? part.length : (part as LicenseEventList).size;
    if (size === 0) return;
    this.parts.push(part);
    this.starts.push(this.total);
    this.total += size;
  }

  /** Events after de-duplication (sorts the log on first use). */
  get size(): number {
    this.sort();
    return this.unique;
  }

  /** The newest event time in ms, or -Infinity for an empty log. */
  newestMs(): number {
    const order = this.sort();
    if (this.drained) throw new Error('EventLog.newestMs after the log was drained');
    if (this.unique === 0) return Number.NEGATIVE_INFINITY;
    const g = order[this.unique - 1]!;
    const p = this.partIndexOf(g);
    return timeOf(this.parts[p]!, g - this.starts[p]!);
  }

  /** Visits every event in order; `build` makes the CanonicalEvent (skip it to not pay for it). */
  forEach(visit: (timeMs: number, build: () => CanonicalEvent) => void): void {
    const order = this.sort();
    if (this.drained) throw new Error('EventLog.forEach after the log was drained');
    for (let i = 0; i < this.unique; i++) {
      const g = order[i]!;
      const p = this.partIndexOf(g);
      visitEvent(this.parts[p]!, g - this.starts[p]!, visit);
    }
  }

  /**
   * The keys one event alone names (SingleUseKeys, pipeline.ts), counted over every event
   * added, repeats included. Read before the drain.
   */
  singleUseKeys(): SingleUseKeys {
    if (this.drained) throw new Error('EventLog.singleUseKeys after the log was drained');
    // Each event names one HWID and one name at most.
    const hwids = new RepeatedKeys(this.total);
    const computers = new RepeatedKeys(this.total);
    for (const part of this.parts) {
      if (part instanceof LicenseEventList) {
        const server = part.licenseServer;
        for (let k = 0; k < part.size; k++) {
          hwids.add(part.hwidNorm(k));
          computers.add(computerKey(server, part.computerNorm(k)));
        }
        continue;
      }
      for (const event of part as readonly CanonicalEvent[]) {
        if (isLicenseLifecycleEvent(event)) {
          hwids.add(event.license.hwid.norm);
          computers.add(computerKey(event.licenseServer, event.license.computer.norm));
        } else if (event.type === 'client.store') computers.add(computerKey(event.licenseServer, event.computer.norm));
      }
    }
    return singleUseKeys(hwids, computers);
  }

  /**
   * The last visit: every event in order, as forEach, while the input goes as it is read. The
   * diff events of a window of the stream are first copied, in order, into a block of their
   * own with their license rows, for every window, and the tables they came from let go;
   * each block goes once its window was visited. A million-row export is about 150 MB of
   * tables that would otherwise stay to the end, next to the state detection builds up.
   * After it the log is empty.
   */
  drain(visit: (timeMs: number, build: () => CanonicalEvent) => void, windowEvents = DRAIN_WINDOW_EVENTS): void {
    const order = this.sort();
    if (this.drained) throw new Error('EventLog.drain after the log was drained');
    if (this.unique <= windowEvents) {
      this.forEach(visit);
      this.release();
      return;
    }
    const windows: (Window | undefined)[] = [];
    for (let from = 0; from < this.unique; from += windowEvents) windows.push(this.window(order.subarray(from, Math.min(from + windowEvents, this.unique))));
    this.release();
    for (let w = 0; w < windows.length; w++) {
      const { parts, partOf, indexOf } = windows[w]!;
      windows[w] = undefined;
      for (let i = 0; i < partOf.length; i++) visitEvent(parts[partOf[i]!]!, indexOf[i]!, visit);
    }
  }

  private release(): void {
    this.parts.length = 0;
    this.starts = [];
    this.order = new Uint32Array(0);
    this.drained = true;
  }

  /** The events at `positions` (global indexes, in order) as a window: diff events copied into one block. */
  private window(positions: Uint32Array): Window {
    // Per part of the log met in this window: its part in the window, events and text bytes.
    const local = new Map<number, { at: number; events: number; textBytes: number }>();
    /** The part of the log each part of the window comes from. */
    const sourceOf: number[] = [];
    const partOf = new Uint32Array(positions.length);
    const indexOf = new Uint32Array(positions.length);
    for (let i = 0; i < positions.length; i++) {
      const g = positions[i]!;
      const p = this.partIndexOf(g);
      const k = g - this.starts[p]!;
      let counts = local.get(p);
      if (counts === undefined) {
        local.set(p, (counts = { at: local.size, events: 0, textBytes: 0 }));
        sourceOf.push(p);
      }
      partOf[i] = counts.at;
      const part = this.parts[p]!;
      if (part instanceof LicenseEventList) {
        indexOf[i] = counts.events;
        counts.textBytes += part.textBytesOf(k);
      } else indexOf[i] = k;
      counts.events++;
    }
    const columns: [number, number][] = [];
    for (const [p, counts] of local) {
      if (!(this.parts[p] instanceof LicenseEventList)) continue;
      for (const column of LicenseEventList.sizedPartColumns(counts.events, counts.textBytes)) columns.push(column);
    }
    const block = columns.length === 0 ? undefined : new ColumnBlock(ColumnBlock.bytesFor(columns));
    const parts: Part[] = [];
    for (const [p, counts] of local) {
      const part = this.parts[p]!;
      parts[counts.at] = part instanceof LicenseEventList ? part.sizedPart(counts.events, counts.textBytes, block!) : part;
    }
    for (let i = 0; i < positions.length; i++) {
      const copy = parts[partOf[i]!]!;
      if (!(copy instanceof LicenseEventList)) continue;
      const p = sourceOf[partOf[i]!]!;
      copy.copyEvent(this.parts[p] as LicenseEventList, positions[i]! - this.starts[p]!);
    }
    return { parts, partOf, indexOf };
  }

  /** The part holding global index g: the last part starting at or before it. */
  private partIndexOf(g: number): number {
    // One part per snapshot diff or file: a year of daily exports is hundreds.
    let lo = 0;
    let hi = this.parts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= g) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private sort(): Uint32Array {
    if (this.order !== undefined) return this.order;
    const n = this.total;
    const times = new Float64Array(n);
    const ids = new Uint32Array(n * 4);
    for (const [p, part] of this.parts.entries()) {
      const start = this.starts[p]!;
      if (Array.isArray(part)) {
        const events = part as readonly CanonicalEvent[];
        for (let k = 0; k < events.length; k++) {
          const event = events[k]!;
          times[start + k] = Date.parse(event.eventTime);
          for (let w = 0; w < 4; w++) ids[(start + k) * 4 + w] = Number.parseInt(event.eventId.slice(w * 8, w * 8 + 8), 16);
        }
      } else {
        const list = part as LicenseEventList;
        for (let k = 0; k < list.size; k++) {
          times[start + k] = list.timeMs(k);
          for (let w = 0; w < 4; w++) ids[(start + k) * 4 + w] = list.idWord(k, w);
        }
      }
    }

    // The first of each eventId, in the order added: an open-addressing set over the ids.
    const keep = new Uint32Array(n);
    let kept = 0;
    let slots = 1;
    while (slots < n * 2) slots *= 2;
    const table = new Int32Array(slots).fill(-1);
    const mask = slots - 1;
    const sameId = (a: number, b: number) =>
      ids[a * 4] === ids[b * 4] && ids[a * 4 + 1] === ids[b * 4 + 1] && ids[a * 4 + 2] === ids[b * 4 + 2] && ids[a * 4 + 3] === ids[b * 4 + 3];
    for (let g = 0; g < n; g++) {
      // Ids are SHA-256 prefixes: their low bits are already uniform.
      let slot = ids[g * 4 + 3]! & mask;
      let duplicate = false;
      for (let other = table[slot]!; other !== -1; slot = (slot + 1) & mask, other = table[slot]!) {
        if (sameId(other, g)) {
          duplicate = true;
          break;
        }
      }
      if (duplicate) continue;
      table[slot] = g;
      keep[kept++] = g;
    }

    const order = keep.subarray(0, kept).sort((a, b) => {
      const dt = times[a]! - times[b]!;
      if (dt !== 0) return dt;
      for (let w = 0; w < 4; w++) {
        const d = ids[a * 4 + w]! - ids[b * 4 + w]!;
        if (d !== 0) return d;
      }
      return 0;
    });
    this.order = order;
    this.unique = kept;
    return order;
  }
}

function timeOf(part: Part, k: number): number {
  return part instanceof LicenseEventList ? part.timeMs(k) : Date.parse((part as readonly CanonicalEvent[])[k]!.eventTime);
}

function visitEvent(part: Part, k: number, visit: (timeMs: number, build: () => CanonicalEvent) => void): void {
  visit(timeOf(part, k), () => (part instanceof LicenseEventList ? part.event(k) : (part as readonly CanonicalEvent[])[k]!));
}
