import { buildComputer, buildEventId, buildHwid, type CanonicalEvent, type LicenseFact } from '@calwatch/model';

/** One Win32_TSIssuedLicense row as an export script writes it. */
export interface IssuedLicenseRow {
  licenseId: number;
  keyPackId: number;
  hwid: string;
  computer: string;
  user: string | null;
  /** LicenseStatus code: 1 temporary, 2 active, 4 revoked... */
  status: number;
  issueDate: string;
  expirationDate: string | null;
}

export interface KeyPackRow {
  keyPackId: number;
  keyPackType: number;
  productVersion: string;
  productVersionId: number;
  description: string;
  typeAndModel: string;
  totalLicenses: number;
  availableLicenses: number;
  issuedLicenses: number;
}

function quote(value: string | number | null): string {
  return value === null ? '' : `"${String(value).replace(/"/g, '""')}"`;
}

/**
 * An issued-licenses export as `Select-Object ... | Export-Csv` writes it in PowerShell 7
 * (every value quoted, null empty). Used by examples, tests and the ingest benchmark.
 */
export function buildIssuedLicensesCsv(licenseServer: string, rows: readonly IssuedLicenseRow[]): string {
  const header = ['PSComputerName', 'LicenseId', 'KeyPackId', 'sIssuedToUser', 'sIssuedToComputer', 'LicenseStatus', 'IssueDate', 'ExpirationDate', 'sHardwareId'];
  const lines = [header.map(quote).join(',')];
  for (const row of rows) {
    lines.push(
      [licenseServer, row.licenseId, row.keyPackId, row.user, row.computer, row.status, row.issueDate, row.expirationDate, row.hwid].map(quote).join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function buildKeyPacksCsv(licenseServer: string, rows: readonly KeyPackRow[]): string {
  const header = ['PSComputerName', 'KeyPackId', 'KeyPackType', 'ProductVersion', 'ProductVersionID', 'Description', 'TypeAndModel', 'TotalLicenses', 'AvailableLicenses', 'IssuedLicenses', 'ExpirationDate'];
  const lines = [header.map(quote).join(',')];
  for (const row of rows) {
    lines.push(
      [licenseServer, row.keyPackId, row.keyPackType, row.productVersion, row.productVersionId, row.description, row.typeAndModel, row.totalLicenses, row.availableLicenses, row.issuedLicenses, null]
        .map(quote)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** A deterministic issued-license row number `n` (distinct HWID and computer per n). */
export function buildIssuedLicenseRow(n: number, overrides: Partial<IssuedLicenseRow> = {}): IssuedLicenseRow {
  const issued = Date.UTC(2024, 3, 1) + n * 60_000;
  return {
    licenseId: n,
    keyPackId: 3,
    hwid: `0x00000002, 0x${n.toString(16).padStart(8, '0')}, 0x11223344, 0x55667788, 0x99AABBCC`,
    computer: `PC-${String(n).padStart(5, '0')}`,
    user: `CORP\\user${n}`,
    status: 2,
    issueDate: new Date(issued).toISOString(),
    expirationDate: new Date(issued + 60 * 86_400_000).toISOString(),
    ...overrides,
  };
}

/** A canonical client-store event (a valid CanonicalEvent) for NDJSON bodies. */
export function buildClientStoreEvent(n: number, licenseServer = 'LS01'): CanonicalEvent {
  const at = new Date(Date.UTC(2024, 5, 1) + n * 1000).toISOString();
  const computer = buildComputer(`VDI-${String(n).padStart(5, '0')}`);
  const hwid = { raw: `0x${n.toString(16).padStart(8, '0')}`, norm: n.toString(16).padStart(8, '0') };
  return {
    schemaVersion: 1,
    eventId: buildEventId('fixture.client.store', licenseServer, n),
    eventTime: at,
    observedTime: at,
    source: { kind: 'canonical', ref: 'fixture' },
    licenseServer,
    type: 'client.store',
    computer,
    hwids: [hwid],
  };
}

/** A licence fact as a snapshot of one license server holds it, one HWID and name per id. */
export function buildLicenseFact(id: number, overrides: Partial<LicenseFact> = {}): LicenseFact {
  return {
    licenseId: id,
    keyPackId: 3,
    hwid: buildHwid(`0x${id.toString(16).padStart(8, '0')}`)!,
    computer: buildComputer(`PC-${id}`),
    user: null,
    issueDate: '2024-05-01T00:00:00.000Z',
    expirationDate: '2024-07-01T00:00:00.000Z',
    status: 'active',
    ...overrides,
  };
}
