import {
  KeyPackFact,
  type LicenseFact,
  buildComputer,
  buildHwid,
  normalizeComputer,
  type LicenseStatus,
} from '@calwatch/model';
import type { IngestRejectionCode } from './rejection-codes';
import type { ParsedItem } from './types';
import {
  isBlank,
  parseDate,
  parseInteger,
  parseLicenseStatus,
  parseText,
  parseUint32,
  showValue,
  type FieldResult,
} from './wmi-values';

/** Looks a property up by name, case-insensitively; undefined when the export lacks it. */
export type FieldReader = (name: string) => unknown;

export interface FieldProblem {
  code: IngestRejectionCode;
  field: string;
  message: string;
}

export type RowResult<T> = { ok: true; licenseServer: string; fact: T } | { ok: false; problems: FieldProblem[] };

/** Collects every problem of a row, so one rejection names them all. */
class RowReader {
  readonly problems: FieldProblem[] = [];
  constructor(private readonly read: FieldReader) {}

  required<T>(field: string, parse: (value: unknown) => FieldResult<T>): T | undefined {
    const value = this.read(field);
    if (isBlank(value)) {
      this.problems.push({
        code: 'INGEST_MISSING_FIELD',
        field,
        message: value === undefined ? `${field} is missing (no such column/property)` : `${field} is empty`,
      });
      return undefined;
    }
    return this.convert(field, value, parse);
  }

  optional<T>(field: string, parse: (value: unknown) => FieldResult<T>): T | null | undefined {
    const value = this.read(field);
    if (isBlank(value)) return null;
    return this.convert(field, value, parse);
  }

  private convert<T>(field: string, value: unknown, parse: (value: unknown) => FieldResult<T>): T | undefined {
    const result = parse(value);
    if (result.ok) return result.value;
    this.problems.push({
      code: 'INGEST_BAD_FIELD',
      field,
      message: `${field}: expected ${result.expected}, found ${showValue(value)}`,
    });
    return undefined;
  }

  text(field: string): string {
    const value = this.optional(field, parseText);
    return value ?? '';
  }
}

/**
 * The license server a row belongs to: `PSComputerName` (Export-Csv / ConvertTo-Json),
 * `__SERVER` (Get-WmiObject), `CimSystemProperties.ServerName` (Get-CimInstance, where
 * PSComputerName is empty for local queries), else the caller's fallback.
 */
function readLicenseServer(reader: RowReader, read: FieldReader, fallback: string | undefined): string | undefined {
  const cim = read('CimSystemProperties');
  const cimServer =
    typeof cim === 'object' && cim !== null ? (cim as Record<string, unknown>)['ServerName'] : undefined;
  for (const candidate of [read('PSComputerName'), read('__SERVER'), cimServer, fallback]) {
    if (typeof candidate !== 'string') continue;
    const server = normalizeComputer(candidate);
    if (server !== '') return server;
  }
  reader.problems.push({
    code: 'INGEST_MISSING_FIELD',
    field: 'PSComputerName',
    message: 'no license server: PSComputerName, __SERVER and CimSystemProperties.ServerName are empty and no fallback license server was given',
  });
  return undefined;
}

/** Maps one `Win32_TSIssuedLicense` row (any column order, any case) to a LicenseFact. */
export function readIssuedLicense(read: FieldReader, fallbackServer: string | undefined): RowResult<LicenseFact> {
  const r = new RowReader(read);
  const licenseServer = readLicenseServer(r, read, fallbackServer);
  const licenseId = r.required('LicenseId', parseUint32);
  const keyPackId = r.required('KeyPackId', parseUint32);
  const hwidRaw = r.required('sHardwareId', parseText);
  const computerRaw = r.required('sIssuedToComputer', parseText);
  const user = r.optional('sIssuedToUser', parseText);
  const issueDate = r.required('IssueDate', parseDate);
  const expirationDate = r.optional('ExpirationDate', parseDate);
  const status = r.required<LicenseStatus>('LicenseStatus', parseLicenseStatus);

  const hwid = hwidRaw === undefined ? undefined : buildHwid(hwidRaw);
  if (hwidRaw !== undefined && hwid === undefined) {
    r.problems.push({
      code: 'INGEST_BAD_FIELD',
      field: 'sHardwareId',
      message: `sHardwareId: expected a hardware id holding hex digits, found ${showValue(hwidRaw)} (nothing left after normalisation)`,
    });
  }
  const computer = computerRaw === undefined ? undefined : buildComputer(computerRaw);
  if (computer !== undefined && computer.norm === '') {
    r.problems.push({
      code: 'INGEST_BAD_FIELD',
      field: 'sIssuedToComputer',
      message: `sIssuedToComputer: expected a computer name, found ${showValue(computerRaw)}`,
    });
  }
  if (r.problems.length > 0) return { ok: false, problems: r.problems };

  // Every field was read and checked above, so the fact is built as it is: running the
  // schema over it again cost a fifth of a row's time (the fuzz test holds facts to it).
  const fact: LicenseFact = {
    licenseId: licenseId!,
    keyPackId: keyPackId!,
    hwid: hwid!,
    computer: computer!,
    user: user === null || user === undefined || user.trim() === '' ? null : user,
    issueDate: issueDate!,
    expirationDate: expirationDate ?? null,
    status: status!,
  };
  return { ok: true, licenseServer: licenseServer!, fact };
}

/** Maps one `Win32_TSLicenseKeyPack` row to a KeyPackFact. */
export function readKeyPack(read: FieldReader, fallbackServer: string | undefined): RowResult<KeyPackFact> {
  const r = new RowReader(read);
  const licenseServer = readLicenseServer(r, read, fallbackServer);
  const keyPackId = r.required('KeyPackId', parseUint32);
  const keyPackType = r.optional('KeyPackType', parseInteger);
  const productVersionId = r.optional('ProductVersionID', parseInteger);
  const productVersion = r.text('ProductVersion');
  const description = r.text('Description');
  const typeAndModel = r.text('TypeAndModel');
  const totalLicenses = r.required('TotalLicenses', parseUint32);
  const availableLicenses = r.required('AvailableLicenses', parseUint32);
  const issuedLicenses = r.required('IssuedLicenses', parseUint32);
  const expirationDate = r.optional('ExpirationDate', parseDate);
  if (r.problems.length > 0) return { ok: false, problems: r.problems };

  return finish(licenseServer!, KeyPackFact.safeParse({
    keyPackId,
    keyPackType: keyPackType ?? null,
    productVersion,
    productVersionId: productVersionId ?? null,
    description,
    typeAndModel,
    totalLicenses,
    availableLicenses,
    issuedLicenses,
    expirationDate: expirationDate ?? null,
  }));
}

/** The schema is checked last, as a guard: the readers above should already ensure it. */
function finish<T>(
  licenseServer: string,
  parsed: { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } },
): RowResult<T> {
  if (parsed.success) return { ok: true, licenseServer, fact: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => ({
      code: 'INGEST_SCHEMA_INVALID',
      field: issue.path.map(String).join('.'),
      message: `${issue.path.map(String).join('.')}: ${issue.message}`,
    })),
  };
}

export type WmiClass = 'wmi-issued-licenses' | 'wmi-keypacks';

/** Reads one row of either class into its ParsedItem, or the row's problems. */
export function readWmiRow(
  wmiClass: WmiClass,
  read: FieldReader,
  fallbackServer: string | undefined,
  record: number,
): { ok: true; item: ParsedItem } | { ok: false; problems: FieldProblem[] } {
  if (wmiClass === 'wmi-issued-licenses') {
    const result = readIssuedLicense(read, fallbackServer);
    return result.ok
      ? { ok: true, item: { kind: 'issued-license', licenseServer: result.licenseServer, license: result.fact, record } }
      : result;
  }
  const result = readKeyPack(read, fallbackServer);
  return result.ok
    ? { ok: true, item: { kind: 'keypack', licenseServer: result.licenseServer, keyPack: result.fact, record } }
    : result;
}
