import type { LicenseEventList } from '@calwatch/ingest';
import type { CanonicalEvent } from '@calwatch/model';

type Part = LicenseEventList | readonly CanonicalEvent[];

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
    return this.unique === 0 ? Number.NEGATIVE_INFINITY : this.at(order[this.unique - 1]!).time;
  }

  /** Visits every event in order; `build` makes the CanonicalEvent (skip it to not pay for it). */
  forEach(visit: (timeMs: number, build: () => CanonicalEvent) => void): void {
    const order = this.sort();
    for (let i = 0; i < this.unique; i++) {
      const { part, k, time } = this.at(order[i]!);
      visit(time, () => (Array.isArray(part) ? (part as readonly CanonicalEvent[])[k]! : (part as LicenseEventList).event(k)));
    }
  }

  private at(g: number): { part: Part; k: number; time: number } {
    // The last part starting at or before g (one part per snapshot diff or file: a year of
    // daily exports is hundreds).
    let lo = 0;
    let hi = this.parts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= g) lo = mid;
      else hi = mid - 1;
    }
    const p = lo;
    const part = this.parts[p]!;
    const k = g - this.starts[p]!;
    const time = Array.isArray(part) ? Date.parse((part as readonly CanonicalEvent[])[k]!.eventTime) : (part as LicenseEventList).timeMs(k);
    return { part, k, time };
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
