/**
 * A stage's states by key, for the in-process pipeline.
 *
 * Most keys of a real estate are quiet: a HWID with one license and no finding, a name with
 * one such HWID. Their state says nothing its one license record does not, yet it costs a
 * state object, an array or two and an entry per HWID: about 450 bytes per device, over half
 * of what the core held. A stage may therefore give a compact form for such states (the record
 * itself, which the HWID's and the name's states then share) and the store keeps that instead.
 * `compact` must be lossless: `expand(compact(s))` is a state equal to `s`, field for field,
 * so a stage, a snapshot or a changelog write never sees the difference. A compact state has
 * no timer and no open finding (what `forEachFull` relies on).
 */
export interface StateForm<S, C> {
  /** The state itself, or a smaller value `expand` turns back into an equal state. */
  compact(state: S): S | C;
  isCompact(stored: S | C): stored is C;
  expand(compact: C): S;
}

/**
 * A state restored from a changelog but not decoded yet: what its changelog entries held, for
 * the store's loader. A restore puts back 100,000 keys of which a few are touched soon; parsing
 * and checking each one at restore was most of a restart's time (docs/processor-runtime.md).
 */
export class DeferredState {
  constructor(readonly source: unknown) {}
}

/** Decodes a deferred state at its first use; undefined drops the key (the loader reports why). */
export type StateLoader<S> = (key: string, source: unknown) => S | undefined;

export class StateStore<S, C = never> {
  private readonly map = new Map<string, S | C | DeferredState>();

  constructor(
    private readonly form: StateForm<S, C> | undefined,
    restored: Record<string, S> = {},
    private readonly loader?: StateLoader<S>,
  ) {
    for (const key in restored) this.set(key, restored[key]!);
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): S | undefined {
    const stored = this.map.get(key);
    if (stored === undefined) return undefined;
    return stored instanceof DeferredState ? this.load(key, stored) : this.full(stored);
  }

  /** Keeps a restored state undecoded until its first use (needs the store's loader). */
  defer(key: string, source: unknown): void {
    if (this.loader === undefined) throw new Error('a store without a loader cannot defer states');
    this.map.set(key, new DeferredState(source));
  }

  private load(key: string, deferred: DeferredState): S | undefined {
    const state = this.loader!(key, deferred.source);
    if (state === undefined) this.map.delete(key);
    else this.set(key, state);
    return state;
  }

  set(key: string, state: S): void {
    this.map.set(key, this.form === undefined ? state : this.form.compact(state));
  }

  /**
   * As `set`, except that a state whose compact form `retire` accepts is not kept: its key
   * goes. For a key no later input can reach (see SingleUseKeys in pipeline.ts); a compact
   * state has no timer and no open finding, so nothing else would read it.
   */
  setUnlessRetired(key: string, state: S, retire: (compact: C) => boolean): void {
    const form = this.form;
    if (form === undefined) {
      this.map.set(key, state);
      return;
    }
    const stored = form.compact(state);
    if (form.isCompact(stored) && retire(stored)) this.map.delete(key);
    else this.map.set(key, stored);
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  /** Every key with its state (compact ones expanded, deferred ones decoded). */
  *entries(): IterableIterator<[string, S]> {
    for (const [key, stored] of this.map) {
      const state = stored instanceof DeferredState ? this.load(key, stored) : this.full(stored);
      if (state !== undefined) yield [key, state];
    }
  }

  /**
   * Visits the keys kept in full, with their states: the only ones that can have a timer or an
   * open finding. A callback over Map#forEach, not a generator: a flush walks every key of a
   * stage, and a generator's entries and results were hundreds of bytes per key of garbage.
   */
  forEachFull(visit: (key: string, state: S) => void): void {
    const form = this.form;
    this.map.forEach((value, key) => {
      let stored = value;
      if (stored instanceof DeferredState) {
        if (this.load(key, stored) === undefined) return;
        stored = this.map.get(key) as S | C;
      }
      if (form === undefined || !form.isCompact(stored)) visit(key, stored as S);
    });
  }

  private full(stored: S | C): S {
    return this.form !== undefined && this.form.isCompact(stored) ? this.form.expand(stored) : (stored as S);
  }

  /** How many keys are kept in compact form (for stats and tests). */
  compactCount(): number {
    const form = this.form;
    if (form === undefined) return 0;
    let n = 0;
    for (const stored of this.map.values()) if (!(stored instanceof DeferredState) && form.isCompact(stored)) n++;
    return n;
  }
}

/** A record with no keys (a state's empty tracks or spellings). */
export function isEmpty(record: object): boolean {
  for (const _ in record) return false;
  return true;
}
