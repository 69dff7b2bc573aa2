import type { FindingKind } from '@calwatch/model';

export const REVOCATION_REMEDIATION =
  'The 20% per-version revocation cap is used up: follow the later batches of the revoke plan once revocation is allowed again, and fix the leak first so the freed CALs are not taken again.';

export const FINDING_TITLES: Readonly<Record<FindingKind, string>> = {
  'cloned-image': 'Cloned image: devices share one HardwareID',
  'hwid-churn': 'HardwareID churn: devices keep taking new CALs',
  'rebuilt-device': 'Rebuilt device orphaned its CALs',
  'duplicate-name': 'Duplicate device name',
  'corrupted-store': 'Corrupted client license store',
  'pool-exhaustion': 'CAL pool exhaustion',
  'leak-rate-spike': 'Leak-rate spike: CALs taken far faster than usual',
};
