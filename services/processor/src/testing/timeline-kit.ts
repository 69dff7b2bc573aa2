import { type CanonicalEvent, type Finding, type KeyPackFact, type LicenseFact, type LicenseStatus, type ServiceEventFact, buildComputer, buildEventId, buildHwid } from '@calwatch/model';
import { DAY_MS, toIso } from '../core/time';

/**
 * Builds hand-made canonical timelines for tests and benchmarks: days are offsets from a
 * start instant, licenses are remembered so renewals and returns carry the right facts.
 */
export interface TimelineKit {
  at(day: number): string;
  issue(licenseId: number, o: { hwid: string; computer: string; day: number; validDays?: number; status?: LicenseStatus; keyPackId?: number; server?: string }): CanonicalEvent;
  renew(licenseId: number, day: number, validDays?: number): CanonicalEvent;
  upgrade(licenseId: number, day: number, validDays?: number): CanonicalEvent;
  revoke(licenseId: number, day: number): CanonicalEvent;
  returned(licenseId: number, day: number, reason?: 'expired' | 'released' | 'unknown'): CanonicalEvent;
  keyPack(o: { day: number; keyPackId: number; product?: string; total: number; available: number; typeAndModel?: string; keyPackType?: number; server?: string }): CanonicalEvent;
  service(o: { day: number; code: number; meaning: ServiceEventFact['meaning']; product?: string | null; remaining?: number; revokedCount?: number; installedCount?: number; nextRevokeAllowedDay?: number; server?: string }): CanonicalEvent;
  store(o: { day: number; computer: string; hwids: string[]; server?: string }): CanonicalEvent;
  license(licenseId: number): LicenseFact;
}

export function createTimelineKit(options: { server?: string; start?: string } = {}): TimelineKit {
  const defaultServer = options.server ?? 'LS01';
  const start = Date.parse(options.start ?? '2024-01-01T00:00:00.000Z');
  const licenses = new Map<number, { fact: LicenseFact; server: string }>();
  const at = (day: number) => toIso(start + Math.round(day * DAY_MS));
  const source = { kind: 'simulator' as const, ref: 'test-kit' };
  const envelope = (eventId: string, day: number, server: string) => ({
    schemaVersion: 1 as const,
    eventId,
    eventTime: at(day),
    observedTime: at(day),
    source,
    licenseServer: server,
  });
  const get = (licenseId: number) => {
    const entry = licenses.get(licenseId);
    if (entry === undefined) throw new Error(`test kit: license ${licenseId} was never issued`);
    return entry;
  };

  return {
    at,
    license: (licenseId) => get(licenseId).fact,

    issue(licenseId, o) {
      const server = o.server ?? defaultServer;
      const status = o.status ?? 'active';
      const validDays = o.validDays ?? (status === 'temporary' ? 90 : 60);
      const fact: LicenseFact = {
        licenseId,
        keyPackId: o.keyPackId ?? (status === 'temporary' ? 2 : 1),
        hwid: buildHwid(o.hwid)!,
        computer: buildComputer(o.computer),
        user: null,
        issueDate: at(o.day),
        expirationDate: at(o.day + validDays),
        status,
      };
      licenses.set(licenseId, { fact, server });
      return { ...envelope(buildEventId('issued', server, licenseId, o.day), o.day, server), type: 'license.issued', license: fact };
    },

    renew(licenseId, day, validDays = 60) {
      const { fact, server } = get(licenseId);
      const next: LicenseFact = { ...fact, expirationDate: at(day + validDays) };
      licenses.set(licenseId, { fact: next, server });
      return {
        ...envelope(buildEventId('renewed', server, licenseId, day), day, server),
        type: 'license.renewed',
        license: next,
        previousExpirationDate: fact.expirationDate,
      };
    },

    upgrade(licenseId, day, validDays = 60) {
      const { fact, server } = get(licenseId);
      const next: LicenseFact = { ...fact, status: 'active', expirationDate: at(day + validDays) };
      licenses.set(licenseId, { fact: next, server });
      return {
        ...envelope(buildEventId('upgraded', server, licenseId, day), day, server),
        type: 'license.upgraded',
        license: next,
        previousStatus: fact.status,
      };
    },

    revoke(licenseId, day) {
      const { fact, server } = get(licenseId);
      const next: LicenseFact = { ...fact, status: 'revoked' };
      licenses.set(licenseId, { fact: next, server });
      return {
        ...envelope(buildEventId('revoked', server, licenseId, day), day, server),
        type: 'license.revoked',
        license: next,
        previousStatus: fact.status,
      };
    },

    returned(licenseId, day, reason = 'expired') {
      const { fact, server } = get(licenseId);
      return {
        ...envelope(buildEventId('returned', server, licenseId, day), day, server),
        type: 'license.returned',
        license: fact,
        reason,
      };
    },

    keyPack(o) {
      const server = o.server ?? defaultServer;
      const keyPack: KeyPackFact = {
        keyPackId: o.keyPackId,
        keyPackType: o.keyPackType ?? 2,
        productVersion: o.product ?? 'Windows Server 2019',
        productVersionId: null,
        description: 'RDS Per Device CAL',
        typeAndModel: o.typeAndModel ?? 'RDS Per Device CAL',
        totalLicenses: o.total,
        availableLicenses: o.available,
        issuedLicenses: o.total - o.available,
        expirationDate: null,
      };
      return {
        ...envelope(buildEventId('keypack', server, o.keyPackId, o.day), o.day, server),
        type: 'keypack.inventory',
        keyPack,
      };
    },

    service(o) {
      const server = o.server ?? defaultServer;
      const event: ServiceEventFact = {
        code: o.code,
        channel: 'System',
        provider: 'Microsoft-Windows-TerminalServices-Licensing',
        recordId: null,
        host: server,
        level: 'Warning',
        params: {},
        meaning: o.meaning,
        product: o.product === undefined ? 'Windows Server 2019' : o.product,
        remainingCals: o.remaining ?? null,
        revokedCount: o.revokedCount ?? null,
        installedCount: o.installedCount ?? null,
        nextRevokeAllowedAt: o.nextRevokeAllowedDay === undefined ? null : at(o.nextRevokeAllowedDay),
        client: null,
        sessionHost: null,
      };
      return {
        ...envelope(buildEventId('service', server, o.code, o.day), o.day, server),
        type: 'service.event',
        event,
      };
    },

    store(o) {
      const server = o.server ?? defaultServer;
      return {
        ...envelope(buildEventId('store', server, o.computer, o.day), o.day, server),
        type: 'client.store',
        computer: buildComputer(o.computer),
        hwids: o.hwids.map((h) => buildHwid(h)!),
      };
    },
  };
}

/** mulberry32: a small seeded generator in [0, 1), so a shuffled schedule or a generated fleet can be replayed. */
export function createSeededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Events in the order `analyze` applies them: event time, then event id. */
export function byEventTime(events: readonly CanonicalEvent[]): CanonicalEvent[] {
  return [...events].sort((a, b) => a.eventTime.localeCompare(b.eventTime) || a.eventId.localeCompare(b.eventId));
}

/** The fields of a finding that carry the verdict, for exact comparison. */
export function verdictOf(f: Finding) {
  return {
    kind: f.kind,
    state: f.state,
    severity: f.severity,
    hwids: f.hwids,
    computers: f.computers,
    licenseIds: f.licenseIds,
    leakedCals: f.leakedCals,
    reclaimableLicenseIds: f.reclaimableLicenseIds,
    revokePlan: f.revokePlan,
  };
}
