import {
  buildComputer,
  buildEventId,
  normalizeComputer,
  type CanonicalEvent,
  type EventSource,
  type ServiceEventFact,
  type ServiceEventMeaning,
} from '@calwatch/model';

/** Where the simulated Windows events come from; GUID of the RCM provider is unverified. */
export const PROVIDERS = {
  licensing: {
    name: 'Microsoft-Windows-TerminalServices-Licensing',
    guid: '{4D99F017-0EB1-4B52-8419-14AEBD13D770}',
    eventSourceName: 'TermServLicensing',
    channel: 'System',
  },
  rcm: {
    name: 'Microsoft-Windows-TerminalServices-RemoteConnectionManager',
    guid: '{C76BAA63-AE81-421C-B425-340B4B24157F}',
    eventSourceName: undefined,
    channel: 'Microsoft-Windows-TerminalServices-RemoteConnectionManager/Operational',
  },
} as const;

export type EventLevel = 'information' | 'warning' | 'error';

interface CatalogEntry {
  provider: keyof typeof PROVIDERS;
  level: EventLevel;
  meaning: ServiceEventMeaning;
  /** Paraphrased message with %1..%n inserts. */
  message: string;
}

/** The events the simulator logs (docs/licensing-reference.md §1.2, §1.3). */
export const EVENT_CATALOG: Readonly<Record<number, CatalogEntry>> = {
  20: {
    provider: 'licensing',
    level: 'warning',
    meaning: 'pool-low',
    message: 'The Remote Desktop license server %1 is running low on permanent licenses for %3: %2 remain.',
  },
  21: {
    provider: 'licensing',
    level: 'warning',
    meaning: 'pool-exhausted',
    message: 'The Remote Desktop license server %1 has no permanent licenses left of type %2 to issue to the RD Session Host server %3.',
  },
  80: {
    provider: 'licensing',
    level: 'information',
    meaning: 'license-revoked',
    message: 'One license of %1 issued to computer %2 was revoked.',
  },
  81: {
    provider: 'licensing',
    level: 'error',
    meaning: 'revocation-limit-reached',
    message:
      'The license issued to %1 could not be revoked: the revocation limit for %2 is reached (%3 of %4 installed are revoked). The next revocation is allowed after %5.',
  },
  1011: {
    provider: 'rcm',
    level: 'error',
    meaning: 'client-temporary-license-expired',
    message: 'The session was refused: the temporary license of client %1 has expired.',
  },
  1028: {
    provider: 'rcm',
    level: 'error',
    meaning: 'client-license-not-renewed',
    message: 'The session was refused: the license of client %1 could not be renewed.',
  },
};

export const LEVEL_NUMBER: Readonly<Record<EventLevel, number>> = { error: 2, warning: 3, information: 4 };

/** Renders the catalog message of an event with its inserts. */
export function renderMessage(fact: ServiceEventFact): string {
  const template = EVENT_CATALOG[fact.code]?.message ?? `Event ${fact.code}`;
  return template.replace(/%(\d+)/g, (_, n: string) => fact.params[`param${n}`] ?? '');
}

export interface EventLogOptions {
  licenseServer: string;
  licenseServerFqdn: string;
  domain: string;
  product: string;
  source: EventSource;
}

/**
 * Builds the `service.event` records a license server and its session hosts would log,
 * numbering records per host and channel as the Windows event log does.
 */
export function createEventLog(options: EventLogOptions) {
  const records = new Map<string, number>();
  const { licenseServer, licenseServerFqdn, product, source } = options;

  const build = (
    atMs: number,
    code: number,
    host: string,
    params: string[],
    extra: Partial<ServiceEventFact>,
  ): CanonicalEvent => {
    const entry = EVENT_CATALOG[code]!;
    const provider = PROVIDERS[entry.provider];
    const logKey = `${host}\u0000${provider.channel}`;
    const recordId = (records.get(logKey) ?? 0) + 1;
    records.set(logKey, recordId);
    const at = new Date(atMs).toISOString();
    const named: Record<string, string> = {};
    params.forEach((value, i) => {
      named[`param${i + 1}`] = value;
    });
    const event: ServiceEventFact = {
      code,
      channel: provider.channel,
      provider: provider.name,
      recordId: String(recordId),
      host,
      level: entry.level,
      params: named,
      meaning: entry.meaning,
      product: null,
      remainingCals: null,
      revokedCount: null,
      installedCount: null,
      nextRevokeAllowedAt: null,
      client: null,
      sessionHost: null,
      ...extra,
    };
    return {
      schemaVersion: 1,
      // The ingest's id for the same record, so a replay of the files deduplicates against this stream.
      eventId: buildEventId('service.event', provider.name, code, normalizeComputer(host), String(recordId), at),
      eventTime: at,
      observedTime: at,
      source,
      licenseServer,
      type: 'service.event',
      event,
    };
  };
  const fqdn = (host: string): string => `${host}.${options.domain}`;

  return {
    poolLow: (atMs: number, remaining: number) =>
      build(atMs, 20, licenseServerFqdn, [licenseServer, String(remaining), product], { product, remainingCals: remaining }),
    noPermanent: (atMs: number, sessionHost: string) =>
      build(atMs, 21, licenseServerFqdn, [licenseServer, product, sessionHost], { product, sessionHost }),
    revoked: (atMs: number, computer: string) =>
      build(atMs, 80, licenseServerFqdn, [product, computer], { product, client: buildComputer(computer) }),
    revocationLimit: (atMs: number, computer: string, revoked: number, installed: number, nextAllowedMs: number) => {
      const next = new Date(nextAllowedMs).toISOString();
      return build(atMs, 81, licenseServerFqdn, [computer, product, String(revoked), String(installed), next], {
        product,
        client: buildComputer(computer),
        revokedCount: revoked,
        installedCount: installed,
        nextRevokeAllowedAt: next,
      });
    },
    clientRefused: (atMs: number, code: 1011 | 1028, sessionHost: string, client: string) =>
      build(atMs, code, fqdn(sessionHost), [client], { client: buildComputer(client), sessionHost: fqdn(sessionHost) }),
  };
}
export type EventLog = ReturnType<typeof createEventLog>;
