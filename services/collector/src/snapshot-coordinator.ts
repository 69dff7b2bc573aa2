import { buildKeyPackEvents, diffSnapshot, type KeyPackSnapshot, type Snapshot, type SnapshotState } from '@calwatch/ingest';
import { type CanonicalEvent, type LicenseFact } from '@calwatch/model';
import { createKeyedMutex } from './keyed-mutex';
import type { EventPublisher } from './publisher';
import type { ScreenedEvents } from './event-screen';
import { emptyServerState, type CollectorServerState } from './server-state';
import { buildStateWrite, storedAfterFailedWrite, storedEntriesOf, type StoredEntries } from './state-entries';

export interface SnapshotOutcome {
  kind: 'issued-licenses' | 'keypacks';
  licenseServer: string;
  takenAt: string;
  /** Not newer than the last snapshot of that server: nothing emitted. */
  stale: boolean;
  /** Rows of the upload were rejected, so licenses missing from it were not read as returned. */
  partial: boolean;
  events: number;
  /** Events that failed the canonical schema and went to the dead-letter topic instead. */
  invalid: number;
}

export interface SnapshotCoordinator {
  /**
   * Loads a restored state (start-up), with the entries the topic holds for it when they
   * are not simply its licenses (see state-entries.ts).
   */
  restore(state: CollectorServerState, stored?: StoredEntries): void;
  applyIssued(snapshot: Snapshot, options: { partial: boolean }): Promise<SnapshotOutcome>;
  applyKeyPacks(snapshot: KeyPackSnapshot): Promise<SnapshotOutcome>;
  stateOf(licenseServer: string): CollectorServerState | undefined;
  readonly servers: number;
}

export interface SnapshotCoordinatorOptions {
  publisher: EventPublisher;
  /** Splits events into those that pass the canonical schema and dead letters for the rest. */
  screen: (events: readonly CanonicalEvent[], ref: string) => ScreenedEvents;
}

/**
 * An upload with rejected rows is not the whole table: licenses it lacks may be among the
 * rejected rows. They are carried over from the last state, so only what the good rows
 * show is emitted, and the next complete snapshot settles the rest.
 */
export function completeWithPrevious(snapshot: Snapshot, previous: SnapshotState | null): Snapshot {
  if (previous === null) return snapshot;
  const present = new Set(snapshot.licenses.map((license) => license.licenseId));
  const carried: LicenseFact[] = Object.values(previous.licenses).filter((license) => !present.has(license.licenseId));
  return carried.length === 0 ? snapshot : { ...snapshot, licenses: [...snapshot.licenses, ...carried] };
}

/**
 * A snapshot's events in (event time, event id) order, as the processor applies them. The
 * differ lists them by licenseId, but their times (issue dates) span the whole interval
 * since the last snapshot: published in that order, an early issue date would arrive
 * behind a later one and could be dead-lettered as too late by the processor.
 */
export function sortByEventTime(events: readonly CanonicalEvent[]): CanonicalEvent[] {
  return events
    .map((event) => ({ event, at: Date.parse(event.eventTime) }))
    .sort((a, b) => a.at - b.at || (a.event.eventId < b.event.eventId ? -1 : a.event.eventId > b.event.eventId ? 1 : 0))
    .map(({ event }) => event);
}

interface ServerSlot {
  state: CollectorServerState;
  /** What the topic holds for the server, to write only the entries that differ. */
  stored: StoredEntries;
}

/**
 * Applies snapshots per license server, one at a time per server: diff against the last
 * state, publish the events, then write the changed state entries. The state is written
 * only after the events were acknowledged, so a crash in between makes a re-sent snapshot
 * emit the same (deterministic) events again rather than lose them.
 */
export function createSnapshotCoordinator(options: SnapshotCoordinatorOptions): SnapshotCoordinator {
  const { publisher, screen } = options;
  const slots = new Map<string, ServerSlot>();
  const mutex = createKeyedMutex();

  async function commit(next: CollectorServerState, events: readonly CanonicalEvent[], ref: string, outcome: SnapshotOutcome): Promise<SnapshotOutcome> {
    const { valid, deadLetters } = screen(events, ref);
    if (valid.length > 0 || deadLetters.length > 0) await publisher.publish(sortByEventTime(valid), deadLetters);
    const slot = slots.get(next.licenseServer);
    const write = buildStateWrite(slot?.stored, next);
    try {
      await publisher.saveState(write);
    } catch (error) {
      // The state stays as it was, but some of the entries may have been written.
      slots.set(next.licenseServer, { state: slot?.state ?? emptyServerState(next.licenseServer), stored: storedAfterFailedWrite(slot?.stored, write) });
      throw error;
    }
    slots.set(next.licenseServer, { state: next, stored: storedEntriesOf(next) });
    return { ...outcome, events: valid.length, invalid: deadLetters.length };
  }

  const stateOf = (licenseServer: string): CollectorServerState | undefined => slots.get(licenseServer)?.state;

  return {
    restore(state, stored = storedEntriesOf(state)) {
      slots.set(state.licenseServer, { state, stored });
    },
    applyIssued(snapshot, { partial }) {
      const server = snapshot.licenseServer;
      return mutex.run(server, async () => {
        const current = stateOf(server) ?? emptyServerState(server);
        const effective = partial ? completeWithPrevious(snapshot, current.issued) : snapshot;
        const diff = diffSnapshot(current.issued ?? undefined, effective);
        const outcome: SnapshotOutcome = { kind: 'issued-licenses', licenseServer: server, takenAt: snapshot.takenAt, stale: diff.stale, partial, events: 0, invalid: 0 };
        if (diff.stale) return outcome;
        return commit({ ...current, issued: diff.state }, diff.events, snapshot.source.ref, outcome);
      });
    },
    applyKeyPacks(snapshot) {
      const server = snapshot.licenseServer;
      return mutex.run(server, async () => {
        const current = stateOf(server) ?? emptyServerState(server);
        const stale = current.keyPacksTakenAt !== null && Date.parse(snapshot.takenAt) <= Date.parse(current.keyPacksTakenAt);
        const outcome: SnapshotOutcome = { kind: 'keypacks', licenseServer: server, takenAt: snapshot.takenAt, stale, partial: false, events: 0, invalid: 0 };
        if (stale) return outcome;
        const events = buildKeyPackEvents(server, snapshot.takenAt, snapshot.keyPacks, snapshot.source);
        return commit({ ...current, keyPacksTakenAt: snapshot.takenAt }, events, snapshot.source.ref, outcome);
      });
    },
    stateOf,
    get servers() {
      return slots.size;
    },
  };
}
