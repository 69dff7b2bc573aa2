import { type CanonicalEvent, type KeyPackFact, isoFromMs, msFromIso } from '@calwatch/model';
import { isPerDevicePool, productKeyOf } from '@calwatch/processor/core';

const DAY_MS = 86_400_000;

/** One day of a pool: CALs in use and the pool size at the end of the day (or at the as-of time). */
export type PoolPoint = [at: string, inUse: number, poolSize: number | null];

/**
 * Per-device CALs in use over time for one product of one license server, with the pool
 * size the key pack inventories gave and when the pool ran out or is projected to.
 */
export interface PoolSeries {
  licenseServer: string;
  /** The key packs' product version (null: no key pack inventory named the licenses' packs). */
  product: string | null;
  keyPackIds: number[];
  /** Where the in-use count comes from: the issued-license table, or (without one) the key pack inventory. */
  inUseFrom: 'license-table' | 'key-pack-inventory';
  /** At the as-of time; installed is null without an inventory. */
  installed: number | null;
  inUse: number;
  /**
   * `reached`: in use first reached the pool size then. `projected`: when the net growth of
   * the last rate window, continued, fills the pool. Null: no pool size, or no growth.
   */
  exhaustion: { at: string; basis: 'reached' | 'projected'; perDay: number | null } | null;
  points: PoolPoint[];
}

/**
 * The UTC day whose end-of-day value an event at `ms` belongs to. Days are (start, end]: a
 * snapshot taken at midnight, and the returns its diff finds, close the day before.
 */
function dayOf(ms: number): number {
  return Math.ceil(ms / DAY_MS) - 1;
}

/** A key pack's history: values at the end of each UTC day it changed. */
interface PackTrack {
  /** Licenses of the pack in the table (issued, not returned or revoked). */
  inUse: number;
  inUseByDay: Map<number, number>;
  /** Latest inventory row, for the product and whether it is a per-device pool. */
  fact: KeyPackFact | null;
  totalByDay: Map<number, number>;
  issuedByDay: Map<number, number>;
}

interface ServerTrack {
  packs: Map<number, PackTrack>;
  /** License id -> key pack it counts under, for licenses in use. */
  live: Map<number, number>;
  sawLicenses: boolean;
}

/**
 * Follows the event stream `analyze` feeds the detection core (same events, same order) and
 * keeps, per license server and key pack, the CALs in use and the inventory per UTC day.
 * Memory: one map entry per license in use, one per pack and day.
 */
export class PoolSeriesBuilder {
  private readonly servers = new Map<string, ServerTrack>();

  /** `timeMs`: the event's time when the caller has it already (a million rows parse it once). */
  add(event: CanonicalEvent, timeMs: number = msFromIso(event.eventTime)): void {
    const server = this.server(event.licenseServer);
    const day = dayOf(timeMs);
    switch (event.type) {
      case 'keypack.inventory': {
        const pack = this.pack(server, event.keyPack.keyPackId);
        pack.fact = event.keyPack;
        pack.totalByDay.set(day, event.keyPack.totalLicenses);
        pack.issuedByDay.set(day, event.keyPack.issuedLicenses);
        return;
      }
      case 'license.issued':
      case 'license.renewed':
      case 'license.upgraded': {
        server.sawLicenses = true;
        const { licenseId, keyPackId, status } = event.license;
        const was = server.live.get(licenseId);
        if (status === 'revoked') {
          if (was !== undefined) this.leave(server, licenseId, was, day);
          return;
        }
        if (was === keyPackId) return;
        if (was !== undefined) this.leave(server, licenseId, was, day);
        server.live.set(licenseId, keyPackId);
        const pack = this.pack(server, keyPackId);
        pack.inUse++;
        pack.inUseByDay.set(day, pack.inUse);
        return;
      }
      case 'license.revoked':
      case 'license.returned': {
        server.sawLicenses = true;
        const was = server.live.get(event.license.licenseId);
        if (was !== undefined) this.leave(server, event.license.licenseId, was, day);
        return;
      }
      default:
        return;
    }
  }

  /** The series at `asOf`, by server then product (unknown product last). */
  finish(asOf: string, rateWindowDays: number): PoolSeries[] {
    const asOfMs = msFromIso(asOf);
    const out: PoolSeries[] = [];
    for (const [licenseServer, server] of [...this.servers].sort((a, b) => a[0].localeCompare(b[0]))) {
      const groups = new Map<string, { product: string | null; packs: [number, PackTrack][] }>();
      for (const [id, pack] of server.packs) {
        // Temporary and built-in packs are not the pool; a pack no inventory named may be.
        if (pack.fact !== null && !isPerDevicePool(pack.fact)) continue;
        if (!server.sawLicenses && pack.fact === null) continue;
        const product = pack.fact === null ? null : pack.fact.productVersion;
        const key = product === null ? '\uffff' : productKeyOf(product);
        const group = groups.get(key) ?? { product, packs: [] };
        group.packs.push([id, pack]);
        groups.set(key, group);
      }
      for (const [, group] of [...groups].sort((a, b) => a[0].localeCompare(b[0]))) {
        out.push(buildSeries(licenseServer, group.product, group.packs, server.sawLicenses, asOfMs, rateWindowDays));
      }
    }
    return out;
  }

  private leave(server: ServerTrack, licenseId: number, keyPackId: number, day: number): void {
    server.live.delete(licenseId);
    const pack = this.pack(server, keyPackId);
    pack.inUse--;
    pack.inUseByDay.set(day, pack.inUse);
  }

  private server(name: string): ServerTrack {
    let server = this.servers.get(name);
    if (server === undefined) this.servers.set(name, (server = { packs: new Map(), live: new Map(), sawLicenses: false }));
    return server;
  }

  private pack(server: ServerTrack, id: number): PackTrack {
    let pack = server.packs.get(id);
    if (pack === undefined) {
      pack = { inUse: 0, inUseByDay: new Map(), fact: null, totalByDay: new Map(), issuedByDay: new Map() };
      server.packs.set(id, pack);
    }
    return pack;
  }
}

/** Sum over packs of each one's last value on or before each day (null: no pack had a value yet). */
function sumByDay(days: readonly number[], tracks: readonly Map<number, number>[]): (number | null)[] {
  const sorted = tracks.map((t) => [...t].sort((a, b) => a[0] - b[0]));
  const cursor = sorted.map(() => -1);
  return days.map((day) => {
    let sum: number | null = null;
    sorted.forEach((entries, i) => {
      while (cursor[i]! + 1 < entries.length && entries[cursor[i]! + 1]![0] <= day) cursor[i]!++;
      const at = cursor[i]!;
      if (at >= 0) sum = (sum ?? 0) + entries[at]![1];
    });
    return sum;
  });
}

function buildSeries(
  licenseServer: string,
  product: string | null,
  packs: readonly [number, PackTrack][],
  fromTable: boolean,
  asOfMs: number,
  rateWindowDays: number,
): PoolSeries {
  const tracks = packs.map(([, p]) => p);
  const inUseTracks = tracks.map((p) => (fromTable ? p.inUseByDay : p.issuedByDay));
  const totalTracks = tracks.map((p) => p.totalByDay);
  const asOfDay = dayOf(asOfMs);
  const daySet = new Set<number>();
  for (const track of [...inUseTracks, ...totalTracks]) for (const day of track.keys()) if (day <= asOfDay) daySet.add(day);
  daySet.add(asOfDay);
  const days = [...daySet].sort((a, b) => a - b);
  const inUse = sumByDay(days, inUseTracks);
  const pool = sumByDay(days, totalTracks);
  const points: PoolPoint[] = days.map((day, i) => [isoFromMs(Math.min((day + 1) * DAY_MS, asOfMs)), inUse[i] ?? 0, pool[i] ?? null]);
  const last = points.at(-1)!;
  return {
    licenseServer,
    product,
    keyPackIds: packs.map(([id]) => id).sort((a, b) => a - b),
    inUseFrom: fromTable ? 'license-table' : 'key-pack-inventory',
    installed: last[2],
    inUse: last[1],
    exhaustion: exhaustionOf(points, asOfMs, rateWindowDays),
    points,
  };
}

/** When in use reached the pool size (the start of the latest run at or over it), else a projection. */
function exhaustionOf(points: readonly PoolPoint[], asOfMs: number, rateWindowDays: number): PoolSeries['exhaustion'] {
  const [, inUse, pool] = points.at(-1)!;
  if (pool === null || pool <= 0) return null;
  if (inUse >= pool) {
    let first = points.length - 1;
    while (first > 0 && points[first - 1]![2] !== null && points[first - 1]![1] >= points[first - 1]![2]!) first--;
    return { at: points[first]![0], basis: 'reached', perDay: null };
  }
  // Net growth over the rate window (or since the first point, when the input starts inside it).
  const windowStart = asOfMs - rateWindowDays * DAY_MS;
  let fromMs = msFromIso(points[0]![0]);
  let from = points[0]![1];
  for (const [at, n] of points) {
    const ms = msFromIso(at);
    if (ms > windowStart) break;
    fromMs = windowStart;
    from = n;
  }
  const spanDays = (asOfMs - fromMs) / DAY_MS;
  if (spanDays <= 0) return null;
  const perDay = (inUse - from) / spanDays;
  if (perDay <= 0) return null;
  const at = asOfMs + ((pool - inUse) / perDay) * DAY_MS;
  return { at: isoFromMs(Math.round(at / 1000) * 1000), basis: 'projected', perDay: Math.round(perDay * 10) / 10 };
}
