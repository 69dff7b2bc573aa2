import type { FindingKind } from '@calwatch/model';

/**
 * What on-call should do, per leak pattern. The processor's finding carries its own
 * remediation; these cover rate-based alerts, whose cause is the dominant classification
 * of the CALs behind them.
 */
const BY_KIND: Readonly<Record<FindingKind | 'healthy', string>> = {
  'hwid-churn':
    'Devices are minting new HardwareIDs (non-persistent VDI or MSLicensing deletion): persist HKLM\\SOFTWARE\\Microsoft\\MSLicensing in the image or profile, or move the collection to per-user licensing; then revoke the orphaned CALs within the 20% per-version cap.',
  'cloned-image':
    'Clones share one HardwareID and ping-pong its CAL: regenerate the MSLicensing HardwareID on each clone (sysprep or delete the key before sealing the image) and revoke the extra CALs.',
  'rebuilt-device':
    'Rebuilt devices left their old CALs behind until expiry (52-89 days): revoke the orphaned CALs following the revoke plan.',
  'duplicate-name':
    'Several devices share a name but have distinct HardwareIDs: usually benign; check that they are really different machines.',
  'corrupted-store':
    "A client's license store holds several HardwareIDs: delete the client's MSLicensing Store key and reconnect; revoke the CALs it no longer uses.",
  'pool-exhaustion':
    'Install more per-device CALs for this product or revoke leaked ones (see the open findings); clients fall back to temporary CALs until then.',
  healthy:
    'No leak pattern is behind this yet: check which session hosts and clients request the CALs (a new deployment, a client app generating new HardwareIDs, a misconfigured collection).',
};

export function remediationFor(kind: FindingKind | 'healthy'): string {
  return BY_KIND[kind];
}

export const REVOCATION_REMEDIATION =
  'The 20% per-version revocation cap is used up: follow the later batches of the revoke plan once revocation is allowed again, and fix the leak first so the freed CALs are not taken again.';

export const FINDING_TITLES: Readonly<Record<FindingKind, string>> = {
  'cloned-image': 'Cloned image: devices share one HardwareID',
  'hwid-churn': 'HardwareID churn: devices keep taking new CALs',
  'rebuilt-device': 'Rebuilt device orphaned its CALs',
  'duplicate-name': 'Duplicate device name',
  'corrupted-store': 'Corrupted client license store',
  'pool-exhaustion': 'CAL pool exhaustion',
};
