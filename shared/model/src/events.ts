import { z } from 'zod';
import { Computer, Hwid, IsoInstant, LicenseStatus } from './primitives';

/**
 * The canonical licensing event stream. Every collector, replay and `analyze` produces
 * these; the processor consumes them. Bump SCHEMA_VERSION on an incompatible change.
 */
export const SCHEMA_VERSION = 1;

export const SourceKind = z.enum([
  'wmi-issued-licenses',
  'wmi-keypacks',
  'winlogbeat',
  'evtx-xml',
  'canonical',
  'client-store',
  'simulator',
]);
export type SourceKind = z.infer<typeof SourceKind>;

export const EventSource = z.object({
  kind: SourceKind,
  /** Where it came from: a file path, an HTTP endpoint with request id, a topic. */
  ref: z.string(),
});
export type EventSource = z.infer<typeof EventSource>;

const envelope = {
  schemaVersion: z.literal(SCHEMA_VERSION),
  /** Deterministic (buildEventId): the same fact read twice is the same event. */
  eventId: z.string().regex(/^[0-9a-f]{32}$/),
  /** When the fact happened, as best the source tells; detection runs on this clock. */
  eventTime: IsoInstant,
  /** When calwatch (or the exporting script) observed it. */
  observedTime: IsoInstant,
  source: EventSource,
  /** Normalised license server name (no domain suffix, upper case). */
  licenseServer: z.string().min(1),
};

/** One row of `Win32_TSIssuedLicense`, typed. */
export const LicenseFact = z.object({
  licenseId: z.number().int().nonnegative(),
  keyPackId: z.number().int().nonnegative(),
  hwid: Hwid,
  computer: Computer,
  user: z.string().nullable(),
  issueDate: IsoInstant,
  expirationDate: IsoInstant.nullable(),
  status: LicenseStatus,
});
export type LicenseFact = z.infer<typeof LicenseFact>;

export const LicenseIssued = z.object({
  ...envelope,
  type: z.literal('license.issued'),
  license: LicenseFact,
});

export const LicenseRenewed = z.object({
  ...envelope,
  type: z.literal('license.renewed'),
  license: LicenseFact,
  previousExpirationDate: IsoInstant.nullable(),
});

export const LicenseUpgraded = z.object({
  ...envelope,
  type: z.literal('license.upgraded'),
  license: LicenseFact,
  previousStatus: LicenseStatus,
});

export const LicenseRevoked = z.object({
  ...envelope,
  type: z.literal('license.revoked'),
  license: LicenseFact,
  previousStatus: LicenseStatus,
});

export const ReturnReason = z.enum(['expired', 'released', 'unknown']);
export const LicenseReturned = z.object({
  ...envelope,
  type: z.literal('license.returned'),
  /** The license as last seen before it left the table. */
  license: LicenseFact,
  reason: ReturnReason,
});

/** One row of `Win32_TSLicenseKeyPack`, typed. */
export const KeyPackFact = z.object({
  keyPackId: z.number().int().nonnegative(),
  keyPackType: z.number().int().nullable(),
  productVersion: z.string(),
  productVersionId: z.number().int().nullable(),
  description: z.string(),
  typeAndModel: z.string(),
  totalLicenses: z.number().int().nonnegative(),
  availableLicenses: z.number().int().nonnegative(),
  issuedLicenses: z.number().int().nonnegative(),
  expirationDate: IsoInstant.nullable(),
});
export type KeyPackFact = z.infer<typeof KeyPackFact>;

export const KeyPackInventory = z.object({
  ...envelope,
  type: z.literal('keypack.inventory'),
  keyPack: KeyPackFact,
});

/** What a licensing-related Windows event means for CAL accounting. */
export const ServiceEventMeaning = z.enum([
  'service-state',
  'activated',
  'not-activated',
  'certificate-problem',
  'database-problem',
  'pool-low',
  'pool-exhausted',
  'no-cals-installed',
  'return-failed',
  'license-revoked',
  'revocation-limit-reached',
  'license-upgraded',
  'issuance-denied',
  'license-server-unreachable',
  'migration',
  'per-user-problem',
  'security-group',
  'client-license-invalid',
  'client-license-not-issued',
  'client-temporary-license-expired',
  'client-license-not-renewed',
  'grace-period-expiring',
  'grace-period-expired',
  'licensing-not-configured',
  'other',
]);
export type ServiceEventMeaning = z.infer<typeof ServiceEventMeaning>;

export const ServiceEventFact = z.object({
  /** Windows event ID with qualifier bits removed. */
  code: z.number().int().nonnegative(),
  channel: z.string(),
  provider: z.string(),
  recordId: z.string().nullable(),
  /** The event's <Computer> (the license server or session host that logged it). */
  host: z.string(),
  level: z.string().nullable(),
  /** Insert strings by name, renamed to 1-based `param1..paramN`. */
  params: z.record(z.string(), z.string()),
  meaning: ServiceEventMeaning,
  /** Fields the meaning defines, extracted from the inserts where present. */
  product: z.string().nullable(),
  remainingCals: z.number().int().nullable(),
  revokedCount: z.number().int().nullable(),
  installedCount: z.number().int().nullable(),
  nextRevokeAllowedAt: IsoInstant.nullable(),
  client: Computer.nullable(),
  sessionHost: z.string().nullable(),
});
export type ServiceEventFact = z.infer<typeof ServiceEventFact>;

export const ServiceEvent = z.object({
  ...envelope,
  type: z.literal('service.event'),
  event: ServiceEventFact,
});

/** The HWIDs found in one client's MSLicensing store (several means a corrupted store). */
export const ClientStoreInventory = z.object({
  ...envelope,
  type: z.literal('client.store'),
  computer: Computer,
  hwids: z.array(Hwid).min(1),
});

export const CanonicalEvent = z.discriminatedUnion('type', [
  LicenseIssued,
  LicenseRenewed,
  LicenseUpgraded,
  LicenseRevoked,
  LicenseReturned,
  KeyPackInventory,
  ServiceEvent,
  ClientStoreInventory,
]);
export type CanonicalEvent = z.infer<typeof CanonicalEvent>;
export type CanonicalEventType = CanonicalEvent['type'];
export type LicenseLifecycleEvent = Extract<CanonicalEvent, { license: LicenseFact }>;

export function isLicenseLifecycleEvent(event: CanonicalEvent): event is LicenseLifecycleEvent {
  return event.type.startsWith('license.');
}

/**
 * Kafka key: the license server. Every detection rule is about the CALs one server
 * issued, so a server's whole state lives in one partition and no stage needs another key.
 */
export function kafkaKeyOf(event: CanonicalEvent): string {
  return event.licenseServer;
}
