import { buildKeyPackEvents } from '@calwatch/ingest';
import {
  buildEventId,
  type CanonicalEvent,
  type Computer,
  type EventSource,
  type Hwid,
  type KeyPackFact,
  type LicenseFact,
} from '@calwatch/model';
import { buildFleetConfig, formatMix, type FleetConfig, type FleetConfigInput } from './config';
import { DAY_MS, buildFleet, hwidsOn, type Device, type Fleet, type ScenarioKind } from './fleet';
import { LicenseServerModel, PRODUCT, type ConnectOutcome, type Connection } from './license-server';
import { STREAM, createRandom } from './random';
import { createEventLog } from './service-events';
import { FINDING_KIND_OF, type GroundTruth, type TruthScenario } from './truth';

const HOUR_MS = 3_600_000;

export interface ClientStore {
  computer: Computer;
  hwids: Hwid[];
}

/** One export instant: the issued-license table, the key packs and the corrupted stores. */
export interface FleetSnapshot {
  /** Normalised license server name. */
  licenseServer: string;
  /** What `PSComputerName` / `<Computer>` carry. */
  licenseServerFqdn: string;
  takenAt: string;
  licenses: LicenseFact[];
  keyPacks: KeyPackFact[];
  clientStores: ClientStore[];
}

/** Everything the simulation produces, in time order. */
export type SimulationItem = { kind: 'event'; event: CanonicalEvent } | { kind: 'snapshot'; snapshot: FleetSnapshot };

export interface FleetSimulation {
  readonly config: Readonly<FleetConfig>;
  /** A fresh, deterministic run each call: lifecycle and service events interleaved with snapshots. */
  items(): IterableIterator<SimulationItem>;
  snapshots(): IterableIterator<FleetSnapshot>;
  /** Canonical events in time order; snapshots become keypack.inventory and client.store events. */
  events(): IterableIterator<CanonicalEvent>;
  /** Ground truth at the end of the window; runs the simulation once if no run has finished yet. */
  truth(): GroundTruth;
}

export const SIMULATOR_SOURCE_KIND = 'simulator' as const;

/**
 * A seeded model of one RD license server and its fleet. Streams: memory holds the
 * current license table and one day's connections, never the history.
 */
export function simulateFleet(input: FleetConfigInput | FleetConfig): FleetSimulation {
  const config = buildFleetConfig(input);
  const source: EventSource = { kind: SIMULATOR_SOURCE_KIND, ref: `simulator:seed=${config.seed}` };
  let truth: GroundTruth | undefined;
  const items = (): IterableIterator<SimulationItem> =>
    run(config, source, (t) => {
      truth = t;
    });
  return {
    config,
    items,
    *snapshots() {
      for (const item of items()) if (item.kind === 'snapshot') yield item.snapshot;
    },
    *events() {
      for (const item of items()) {
        if (item.kind === 'event') yield item.event;
        else yield* snapshotEvents(item.snapshot, source);
      }
    },
    truth() {
      if (truth === undefined) for (const item of items()) void item;
      return truth!;
    },
  };
}

/** The canonical events a collector would make of a snapshot's key packs and client stores. */
export function snapshotEvents(snapshot: FleetSnapshot, source: EventSource): CanonicalEvent[] {
  const { licenseServer, takenAt } = snapshot;
  const events = buildKeyPackEvents(licenseServer, takenAt, snapshot.keyPacks, source);
  for (const store of snapshot.clientStores) {
    events.push({
      schemaVersion: 1,
      // The ingest's id for the same inventory (HWIDs sorted), so replays deduplicate.
      eventId: buildEventId('client.store', licenseServer, store.computer.norm, [...new Set(store.hwids.map((h) => h.norm))].sort().join(','), takenAt),
      eventTime: takenAt,
      observedTime: takenAt,
      source,
      licenseServer,
      type: 'client.store',
      computer: store.computer,
      hwids: store.hwids,
    });
  }
  return events;
}

function* run(config: FleetConfig, source: EventSource, onTruth: (truth: GroundTruth) => void): Generator<SimulationItem> {
  const startMs = Date.parse(config.start);
  const endMs = startMs + config.days * DAY_MS;
  const firstDayMs = Math.floor(startMs / DAY_MS) * DAY_MS;
  const dayCount = Math.ceil((endMs - firstDayMs) / DAY_MS);
  const fleet = buildFleet(config, dayCount);
  const hosts = Array.from({ length: config.sessionHosts }, (_, i) => `RDSH${String(i + 1).padStart(2, '0')}`);
  const licenseServer = config.licenseServer.toUpperCase();
  const licenseServerFqdn = `${licenseServer}.${config.domain}`;
  const pending: CanonicalEvent[] = [];
  const server = new LicenseServerModel({
    name: licenseServer,
    pool: config.pool,
    temporaryFirst: config.temporaryFirst,
    random: createRandom(config.seed, STREAM.server),
    log: createEventLog({ licenseServer, licenseServerFqdn, domain: config.domain, product: PRODUCT.name, source }),
    source,
    emit: (event) => pending.push(event),
  });
  const ledger = createLedger(fleet);
  const corrupted = fleet.devices.filter((d) => d.kind === 'corrupted');
  let adminPending = false;
  let adminNotBeforeDay = 0;
  let snapshots = 0;
  let nextSnapshotMs = startMs + config.snapshotIntervalMs;

  function* drain(): Generator<SimulationItem> {
    for (const event of pending) {
      if (event.type === 'service.event') {
        ledger.serviceEvent(event.event.code, Date.parse(event.eventTime));
        if (event.event.code === 21) {
          adminPending = true;
          adminNotBeforeDay = Math.floor((Date.parse(event.eventTime) - firstDayMs) / DAY_MS) + 1;
        }
      }
      yield { kind: 'event', event };
    }
    pending.length = 0;
  }

  function* snapshot(atMs: number): Generator<SimulationItem> {
    server.reclaimUntil(atMs);
    yield* drain();
    const day = Math.floor((atMs - firstDayMs) / DAY_MS);
    snapshots += 1;
    yield {
      kind: 'snapshot',
      snapshot: {
        licenseServer,
        licenseServerFqdn,
        takenAt: new Date(atMs).toISOString(),
        licenses: server.licenses(),
        keyPacks: server.keyPacks(),
        clientStores: corrupted.map((d) => ({ computer: d.computer, hwids: hwidsOn(config.seed, d, Math.min(day, dayCount - 1)) })),
      },
    };
  }

  for (let day = 0; day < dayCount; day += 1) {
    const dayMs = firstDayMs + day * DAY_MS;
    const dayEndMs = dayMs + DAY_MS;
    const weekday = new Date(dayMs).getUTCDay();
    const working = weekday >= 1 && weekday <= 5;
    const connections = working ? dayConnections(config, fleet, day, dayMs, startMs, endMs, hosts) : [];
    let adminAtMs = working && adminPending && config.revokeWhenExhausted && day >= adminNotBeforeDay ? dayMs + 10 * HOUR_MS : Infinity;
    let next = 0;
    for (;;) {
      const connectionMs = next < connections.length ? connections[next]!.atMs : Infinity;
      const snapshotMs = nextSnapshotMs <= endMs ? nextSnapshotMs : Infinity;
      const at = Math.min(connectionMs, snapshotMs, adminAtMs);
      if (at >= dayEndMs) break;
      if (snapshotMs === at) {
        yield* snapshot(at);
        nextSnapshotMs += config.snapshotIntervalMs;
      } else if (adminAtMs === at) {
        adminPending = false;
        adminAtMs = Infinity;
        server.revokeSurplus(at);
        yield* drain();
      } else {
        const connection = connections[next]!;
        next += 1;
        ledger.connected(connection, server.connect(connection));
        if (pending.length > 0) yield* drain();
      }
    }
  }
  while (nextSnapshotMs <= endMs) {
    yield* snapshot(nextSnapshotMs);
    nextSnapshotMs += config.snapshotIntervalMs;
  }
  server.reclaimUntil(endMs);
  yield* drain();
  onTruth(ledger.truth(config, server, { startMs, endMs, licenseServer, snapshots }));
}

/** One day's connections of every machine, in time order (ties: machine order). */
function dayConnections(
  config: FleetConfig,
  fleet: Fleet,
  day: number,
  dayMs: number,
  startMs: number,
  endMs: number,
  hosts: string[],
): Connection[] {
  const out: Connection[] = [];
  for (const device of fleet.devices) {
    if (day >= device.awayFrom && day < device.awayTo) continue;
    const rnd = createRandom(config.seed, STREAM.day, device.index, day);
    if (!rnd.chance(device.attendance)) continue;
    const morning = dayMs + 7 * HOUR_MS + rnd.int(0, 3 * 3600 - 1) * 1000;
    const afternoon = rnd.chance(device.secondConnection) ? dayMs + 12 * HOUR_MS + rnd.int(0, 5 * 3600 - 1) * 1000 : -1;
    const hwids = hwidsOn(config.seed, device, day);
    for (const atMs of [morning, afternoon]) {
      if (atMs < startMs || atMs >= endMs) continue;
      out.push({
        atMs,
        hwid: hwids.length === 1 ? hwids[0]! : hwids[rnd.int(0, hwids.length - 1)]!,
        computer: device.computer,
        user: device.user,
        sessionHost: hosts[rnd.int(0, hosts.length - 1)]!,
        scenario: device.scenario,
        device: device.index,
      });
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

interface ScenarioLedger {
  licenseIds: number[];
  hwids: Set<string>;
  pairs: Set<string>;
  firstEvidenceMs: number;
  refusals: number;
}

/** Accumulates what truth.json needs while the run streams. */
function createLedger(fleet: Fleet) {
  const scenarios: ScenarioLedger[] = fleet.scenarios.map(() => ({
    licenseIds: [],
    hwids: new Set(),
    pairs: new Set(),
    firstEvidenceMs: Infinity,
    refusals: 0,
  }));
  const pool = { firstEmptyMs: Infinity, licenseIds: [] as number[], refusals: 0, hwids: new Set<string>(), computers: new Set<string>() };
  const serviceEvents = new Map<number, number>();

  return {
    serviceEvent(code: number, atMs: number): void {
      serviceEvents.set(code, (serviceEvents.get(code) ?? 0) + 1);
      if (code === 21) pool.firstEmptyMs = Math.min(pool.firstEmptyMs, atMs);
    },

    connected(c: Connection, outcome: ConnectOutcome): void {
      const s = c.scenario >= 0 ? scenarios[c.scenario] : undefined;
      s?.hwids.add(c.hwid.norm);
      if (outcome.poolEmpty) {
        pool.hwids.add(c.hwid.norm);
        pool.computers.add(c.computer.norm);
      }
      if (outcome.action === 'refused') {
        pool.refusals += 1;
        if (s !== undefined) s.refusals += 1;
        return;
      }
      if (outcome.action !== 'issued') return;
      const id = outcome.license.fact.licenseId;
      if (outcome.poolEmpty) pool.licenseIds.push(id);
      if (s === undefined) return;
      s.licenseIds.push(id);
      s.pairs.add(`${c.hwid.norm}|${c.computer.norm}`);
      if (s.pairs.size > 1) s.firstEvidenceMs = Math.min(s.firstEvidenceMs, c.atMs);
    },

    truth(
      config: FleetConfig,
      server: LicenseServerModel,
      window: { startMs: number; endMs: number; licenseServer: string; snapshots: number },
    ): GroundTruth {
      const live = scenarios.map(() => new Map<number, number[]>());
      const healthyLive = new Map<string, number>();
      for (const held of server.held()) {
        if (held.fact.status === 'revoked') continue;
        if (held.scenario < 0) {
          healthyLive.set(held.fact.hwid.norm, (healthyLive.get(held.fact.hwid.norm) ?? 0) + 1);
          continue;
        }
        const byDevice = live[held.scenario]!;
        const list = byDevice.get(held.device);
        if (list === undefined) byDevice.set(held.device, [held.fact.licenseId]);
        else list.push(held.fact.licenseId);
      }
      const statusOf = new Map<number, string>();
      for (const held of server.held()) statusOf.set(held.fact.licenseId, held.fact.status);
      const ordinal = new Map<ScenarioKind, number>();
      const iso = (ms: number): string | null => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);
      const sorted = <T>(values: Iterable<T>): T[] => [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const byNumber = (values: number[]): number[] => [...values].sort((a, b) => a - b);

      const out: TruthScenario[] = fleet.scenarios.map((seed, i) => {
        const ledger = scenarios[i]!;
        const n = (ordinal.get(seed.kind) ?? 0) + 1;
        ordinal.set(seed.kind, n);
        const liveIds: number[] = [];
        const leaked: number[] = [];
        for (const ids of live[i]!.values()) {
          // Table order is licenseId order: the newest per machine is the one it needs.
          for (const [k, id] of ids.entries()) {
            liveIds.push(id);
            if (k < ids.length - 1) leaked.push(id);
          }
        }
        const devices = seed.devices.map((d) => fleet.devices[d]!);
        return {
          id: `${seed.kind}-${n}`,
          kind: seed.kind,
          findingKind: FINDING_KIND_OF[seed.kind],
          benign: seed.kind === 'duplicate-name',
          licenseServer: window.licenseServer,
          hwids: sorted(ledger.hwids),
          computers: sorted(new Set(devices.map((d) => d.computer.norm))),
          machines: devices.length,
          licenseIds: byNumber(ledger.licenseIds),
          liveLicenseIds: byNumber(liveIds),
          leakedLicenseIds: byNumber(leaked),
          leakedCals: leaked.length,
          leakedPermanentCals: leaked.filter((id) => statusOf.get(id) === 'active').length,
          firstEvidenceAt: iso(ledger.firstEvidenceMs),
          details: scenarioDetails(devices, window.startMs, ledger.refusals),
        };
      });
      if (Number.isFinite(pool.firstEmptyMs)) {
        out.push({
          id: 'pool-exhaustion-1',
          kind: 'pool-exhaustion',
          findingKind: FINDING_KIND_OF['pool-exhaustion'],
          benign: false,
          licenseServer: window.licenseServer,
          hwids: sorted(pool.hwids),
          computers: sorted(pool.computers),
          machines: pool.computers.size,
          licenseIds: byNumber(pool.licenseIds),
          liveLicenseIds: byNumber(pool.licenseIds.filter((id) => statusOf.has(id) && statusOf.get(id) !== 'revoked')),
          leakedLicenseIds: [],
          leakedCals: 0,
          leakedPermanentCals: 0,
          firstEvidenceAt: iso(pool.firstEmptyMs),
          details: {
            installed: config.pool,
            refusals: pool.refusals,
            temporariesWhilePoolEmpty: pool.licenseIds.length,
            noPermanentEvents: serviceEvents.get(21) ?? 0,
          },
        });
      }
      let healthySurplus = 0;
      for (const count of healthyLive.values()) healthySurplus += count - 1;
      return {
        schemaVersion: 1,
        seed: config.seed,
        window: { start: new Date(window.startMs).toISOString(), end: new Date(window.endMs).toISOString() },
        licenseServer: window.licenseServer,
        settings: {
          devices: config.devices,
          days: config.days,
          pool: config.pool,
          snapshotIntervalMs: config.snapshotIntervalMs,
          sessionHosts: config.sessionHosts,
          temporaryFirst: config.temporaryFirst,
          revokeWhenExhausted: config.revokeWhenExhausted,
          mix: formatMix(config.mix),
        },
        totals: {
          healthyMachines: fleet.devices.filter((d) => d.kind === 'healthy').length,
          licensesIssued: server.issuedCount,
          snapshots: window.snapshots,
          permanentInUseAtEnd: server.permanentInUse,
          peakPermanentInUse: server.peakPermanentInUse,
          temporaryAtEnd: server.temporaryInUse,
          revokedListedAtEnd: server.revokedHeld,
          healthySurplusAtEnd: healthySurplus,
          serviceEvents: Object.fromEntries(sorted(serviceEvents.keys()).map((code) => [String(code), serviceEvents.get(code)!])),
        },
        scenarios: out,
      };
    },
  };
}

function scenarioDetails(devices: Device[], startMs: number, refusals: number): Record<string, number | string> {
  const first = devices[0]!;
  const firstDayMs = Math.floor(startMs / DAY_MS) * DAY_MS;
  const details: Record<string, number | string> = { refusals };
  switch (first.kind) {
    case 'deleter':
      details.deleteEveryDays = first.deleteEveryDays;
      break;
    case 'rebuild':
      details.rebuiltAt = new Date(Math.max(startMs, firstDayMs + first.rebuildDay * DAY_MS)).toISOString();
      break;
    case 'corrupted':
      details.hwidsPerStore = first.hwidsPerStore;
      break;
    default:
      break;
  }
  return details;
}
