import { buildEventId, type CanonicalEvent, type EventSource, type KeyPackFact } from '@calwatch/model';

/**
 * One `keypack.inventory` event per key pack of a `Win32_TSLicenseKeyPack` snapshot;
 * eventTime is the snapshot time, so re-sending the same snapshot yields the same ids.
 */
export function buildKeyPackEvents(
  licenseServer: string,
  takenAt: string,
  keyPacks: KeyPackFact[],
  source: EventSource,
): CanonicalEvent[] {
  return keyPacks.map((keyPack) => ({
    schemaVersion: 1 as const,
    eventId: buildEventId('keypack.inventory', licenseServer, keyPack.keyPackId, takenAt),
    eventTime: takenAt,
    observedTime: takenAt,
    source,
    licenseServer,
    type: 'keypack.inventory' as const,
    keyPack,
  }));
}
