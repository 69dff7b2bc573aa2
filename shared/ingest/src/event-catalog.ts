import type { ServiceEventMeaning } from '@calwatch/model';

/** Canonical provider names; aliases map onto them so the same event has one id from any source. */
export const LICENSING_PROVIDER = 'Microsoft-Windows-TerminalServices-Licensing';
export const RCM_PROVIDER = 'Microsoft-Windows-TerminalServices-RemoteConnectionManager';

const PROVIDER_ALIASES: ReadonlyMap<string, string> = new Map([
  [LICENSING_PROVIDER.toLowerCase(), LICENSING_PROVIDER],
  // Legacy event-source name of the licensing service, used in the System log.
  ['termservlicensing', LICENSING_PROVIDER],
  [RCM_PROVIDER.toLowerCase(), RCM_PROVIDER],
]);

/** The canonical provider for a provider (or event source) name, or undefined when unrelated. */
export function canonicalProvider(...names: Array<string | null | undefined>): string | undefined {
  for (const name of names) {
    if (name === null || name === undefined) continue;
    const found = PROVIDER_ALIASES.get(name.trim().toLowerCase());
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Which insert (1-based) carries which fact, per event. */
export interface InsertMap {
  product?: number;
  remainingCals?: number;
  revokedCount?: number;
  installedCount?: number;
  nextRevokeAllowedAt?: number;
  client?: number;
  sessionHost?: number;
  /** The license server named in the inserts (session-host events). */
  licenseServer?: number;
}

export interface CatalogEntry {
  meaning: ServiceEventMeaning;
  inserts?: InsertMap;
}

const entry = (meaning: ServiceEventMeaning, inserts?: InsertMap): CatalogEntry =>
  inserts === undefined ? { meaning } : { meaning, inserts };

/** TerminalServices-Licensing event IDs (on the license server); see docs/licensing-reference.md §1.2. */
const LICENSING: ReadonlyMap<number, CatalogEntry> = new Map([
  [0, entry('service-state')],
  [1, entry('service-state')],
  [2, entry('service-state')],
  [3, entry('service-state')],
  [4, entry('activated')],
  [7, entry('other')],
  [8, entry('other')],
  [9, entry('database-problem')],
  [12, entry('issuance-denied')],
  [13, entry('issuance-denied')],
  [14, entry('other')],
  [15, entry('other')],
  [16, entry('return-failed')],
  [17, entry('certificate-problem')],
  [18, entry('not-activated')],
  [19, entry('certificate-problem')],
  [20, entry('pool-low', { remainingCals: 2, product: 3 })],
  [21, entry('pool-exhausted', { product: 2, sessionHost: 3 })],
  [22, entry('no-cals-installed', { product: 2, sessionHost: 3 })],
  [39, entry('not-activated')],
  [46, entry('certificate-problem')],
  [64, entry('other')],
  [70, entry('security-group')],
  [71, entry('security-group')],
  [72, entry('security-group')],
  [73, entry('security-group')],
  [74, entry('security-group')],
  [76, entry('security-group')],
  [80, entry('license-revoked', { product: 1, client: 2 })],
  [81, entry('revocation-limit-reached', { client: 1, product: 2, revokedCount: 3, installedCount: 4, nextRevokeAllowedAt: 5 })],
  [82, entry('license-upgraded', { client: 3, product: 4 })],
  [89, entry('migration')],
  [90, entry('migration')],
  [91, entry('migration')],
  [92, entry('migration')],
  [93, entry('migration')],
  [4100, entry('database-problem')],
  [4105, entry('per-user-problem')],
  [4140, entry('security-group')],
  [4141, entry('issuance-denied', { sessionHost: 1 })],
  [4144, entry('other')],
  [8196, entry('security-group')],
]);

/** TerminalServices-RemoteConnectionManager event IDs (on the session host); §1.3. */
const RCM: ReadonlyMap<number, CatalogEntry> = new Map([
  [1003, entry('client-license-invalid', { client: 1 })],
  [1004, entry('client-license-not-issued')],
  [1011, entry('client-temporary-license-expired', { client: 1 })],
  [1028, entry('client-license-not-renewed', { client: 1 })],
  [1043, entry('license-server-unreachable', { licenseServer: 1 })],
  [1061, entry('per-user-problem')],
  [1068, entry('licensing-not-configured')],
  [1069, entry('grace-period-expired')],
  [1128, entry('grace-period-expired')],
  [1129, entry('grace-period-expiring')],
  [1130, entry('licensing-not-configured')],
  [1131, entry('license-server-unreachable', { licenseServer: 1 })],
  [1132, entry('license-server-unreachable', { licenseServer: 1 })],
  [1133, entry('certificate-problem')],
]);

/** What an event means; IDs the catalog does not know are kept as `other`. */
export function lookupEvent(provider: string, code: number): CatalogEntry {
  const table = provider === LICENSING_PROVIDER ? LICENSING : RCM;
  return table.get(code) ?? { meaning: 'other' };
}

/**
 * Removes qualifier bits from an event ID. A 32-bit instance ID (0xC0000468) keeps its low
 * 16 bits; some renderings fold the severity bits into those 16 (50280 = 0xC000 | 1128),
 * so when only the low 14 bits name a known event of the provider, those are the ID.
 */
export function resolveEventCode(provider: string, eventId: number): number {
  const low16 = eventId & 0xffff;
  const table = provider === LICENSING_PROVIDER ? LICENSING : RCM;
  if (table.has(low16)) return low16;
  const low14 = low16 & 0x3fff;
  return low14 !== low16 && table.has(low14) ? low14 : low16;
}
