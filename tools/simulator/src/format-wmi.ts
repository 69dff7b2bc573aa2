import { LICENSE_STATUS_BY_CODE, type KeyPackFact, type LicenseFact } from '@calwatch/model';

/**
 * Renderings of Win32_TSIssuedLicense / Win32_TSLicenseKeyPack exports as PowerShell
 * writes them (docs/licensing-reference.md §3). Each format is a header plus a row function compiled once
 * per export, because a snapshot can hold hundreds of thousands of rows.
 */

export interface ExportContext {
  /** `__SERVER` / `PSComputerName`: the NetBIOS name of the license server. */
  server: string;
}

export type WmiClass = 'Win32_TSIssuedLicense' | 'Win32_TSLicenseKeyPack';

export interface TableFormat<Row> {
  /** Text before the first row (header lines, opening bracket). */
  head(rowCount: number): string;
  row(row: Row, index: number, rowCount: number): string;
  /** Text after the last row. */
  tail(rowCount: number): string;
}

const CRLF = '\r\n';

const CANONICAL_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** `toISOString()` form; instants already in it (the hot path) are not re-parsed. */
function canonicalIso(iso: string): string {
  return CANONICAL_ISO.test(iso) ? iso : new Date(iso).toISOString();
}

/** WMI DATETIME `yyyymmddHHMMSS.mmmmmm+UUU` in UTC. */
export function toDmtf(iso: string): string {
  const canonical = canonicalIso(iso);
  return (
    canonical.slice(0, 4) + canonical.slice(5, 7) + canonical.slice(8, 10) +
    canonical.slice(11, 13) + canonical.slice(14, 16) + canonical.slice(17, 19) +
    '.' + canonical.slice(20, 23) + '000+000'
  );
}

/** `DateTime.ToString()` under en-US, as Export-Csv writes a CIM date: `6/12/2024 9:30:15 AM`. */
export function toEnUsDateTime(iso: string): string {
  const d = new Date(iso);
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h12}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

/** Windows PowerShell 5.1 ConvertTo-Json date: `\/Date(ms)\/` (already JSON-escaped). */
export function toMsJsonDate(iso: string): string {
  return `"\\/Date(${Date.parse(iso)})\\/"`;
}

/** PowerShell 7 ConvertTo-Json of a local-kind DateTime on a UTC server. */
export function toPs7JsonDate(iso: string): string {
  const d = new Date(iso);
  const ms = d.getUTCMilliseconds();
  const base = d.toISOString().slice(0, 19);
  return `"${base}${ms === 0 ? '' : `.${String(ms).padStart(3, '0').replace(/0+$/, '')}`}+00:00"`;
}

/** Export-Csv "always" quoting: every non-null value in quotes, embedded quotes doubled; null is empty. */
export function csvField(value: string | null): string {
  if (value === null) return '';
  return value.includes('"') ? `"${value.replace(/"/g, '""')}"` : `"${value}"`;
}

type Cell<Row> = (row: Row) => string | null;

interface Column<Row> {
  name: string;
  value: Cell<Row>;
  /** Set when the value is the same for every row: rendered once per export. */
  fixed?: string | null;
}

const statusCode = (l: LicenseFact): string => String(LICENSE_STATUS_BY_CODE.indexOf(l.status));

/** Class properties in case-insensitive alphabetical order (how WMI lists them). */
const ISSUED_PROPERTIES: Column<LicenseFact>[] = [
  { name: 'ExpirationDate', value: (l) => (l.expirationDate === null ? null : toDmtf(l.expirationDate)) },
  { name: 'IssueDate', value: (l) => toDmtf(l.issueDate) },
  { name: 'KeyPackId', value: (l) => String(l.keyPackId) },
  { name: 'LicenseId', value: (l) => String(l.licenseId) },
  { name: 'LicenseStatus', value: statusCode },
  { name: 'sHardwareId', value: (l) => l.hwid.raw },
  { name: 'sIssuedToComputer', value: (l) => l.computer.raw },
  { name: 'sIssuedToUser', value: (l) => l.user },
];

const KEYPACK_PROPERTIES: Column<KeyPackFact>[] = [
  { name: 'AccessRights', value: () => '1' },
  { name: 'AvailableLicenses', value: (k) => String(k.availableLicenses) },
  { name: 'Description', value: (k) => k.description },
  { name: 'ExpirationDate', value: (k) => (k.expirationDate === null ? null : toDmtf(k.expirationDate)) },
  { name: 'IssuedLicenses', value: (k) => String(k.issuedLicenses) },
  { name: 'KeyPackId', value: (k) => String(k.keyPackId) },
  { name: 'KeyPackType', value: (k) => (k.keyPackType === null ? null : String(k.keyPackType)) },
  { name: 'ProductType', value: () => '0' },
  { name: 'ProductVersion', value: (k) => k.productVersion },
  { name: 'ProductVersionID', value: (k) => (k.productVersionId === null ? null : String(k.productVersionId)) },
  { name: 'TotalLicenses', value: (k) => String(k.totalLicenses) },
  { name: 'TypeAndModel', value: (k) => k.typeAndModel },
];

function relPath(cls: WmiClass, row: LicenseFact | KeyPackFact): string {
  return cls === 'Win32_TSIssuedLicense'
    ? `${cls}.KeyPackId=${row.keyPackId},LicenseId=${(row as LicenseFact).licenseId}`
    : `${cls}.KeyPackId=${row.keyPackId}`;
}

function csvTable<Row>(columns: Column<Row>[], typeLine: string | null): TableFormat<Row> {
  const header = columns.map((c) => csvField(c.name)).join(',');
  // Runs of constant columns are joined once; a row only renders what varies.
  const parts: Array<string | Cell<Row>> = [];
  columns.forEach((c, i) => {
    const text = (i === 0 ? '' : ',') + (c.fixed === undefined ? '' : csvField(c.fixed));
    const last = parts[parts.length - 1];
    if (typeof last === 'string') parts[parts.length - 1] = last + text;
    else parts.push(text);
    if (c.fixed === undefined) parts.push(c.value);
  });
  parts.push(typeof parts[parts.length - 1] === 'string' ? (parts.pop() as string) + CRLF : CRLF);
  return {
    head: () => (typeLine === null ? '' : typeLine + CRLF) + header + CRLF,
    row: (row) => {
      let out = '';
      for (const part of parts) out += typeof part === 'string' ? part : csvField(part(row));
      return out;
    },
    tail: () => '',
  };
}

/**
 * `Get-WmiObject <class> | Export-Csv` in Windows PowerShell 5.1: `#TYPE` line, PSComputerName,
 * the WMI system properties, the class properties, then the .NET ManagementObject ones.
 */
export function ps51Csv<Row extends LicenseFact | KeyPackFact>(cls: WmiClass, ctx: ExportContext): TableFormat<Row> {
  const props = (cls === 'Win32_TSIssuedLicense' ? ISSUED_PROPERTIES : KEYPACK_PROPERTIES) as unknown as Column<Row>[];
  const ns = 'root\\cimv2';
  const path = (row: Row): string => `\\\\${ctx.server}\\${ns}:${relPath(cls, row)}`;
  const fixed = (name: string, value: string | null): Column<Row> => ({ name, value: () => value, fixed: value });
  const columns: Column<Row>[] = [
    fixed('PSComputerName', ctx.server),
    fixed('__GENUS', '2'),
    fixed('__CLASS', cls),
    fixed('__SUPERCLASS', null),
    fixed('__DYNASTY', cls),
    { name: '__RELPATH', value: (row) => relPath(cls, row) },
    fixed('__PROPERTY_COUNT', String(props.length)),
    fixed('__DERIVATION', 'System.String[]'),
    fixed('__SERVER', ctx.server),
    fixed('__NAMESPACE', ns),
    { name: '__PATH', value: path },
    ...props,
    fixed('Scope', 'System.Management.ManagementScope'),
    { name: 'Path', value: path },
    fixed('Options', 'System.Management.ObjectGetOptions'),
    fixed('ClassPath', `\\\\${ctx.server}\\${ns}:${cls}`),
    fixed('Properties', 'System.Management.PropertyDataCollection'),
    fixed('SystemProperties', 'System.Management.PropertyDataCollection'),
    fixed('Qualifiers', 'System.Management.QualifierDataCollection'),
    fixed('Site', null),
    fixed('Container', null),
  ];
  return csvTable(columns, `#TYPE System.Management.ManagementObject#root\\cimv2\\${cls}`);
}

/**
 * `Get-CimInstance <class> | Export-Csv` in PowerShell 7, unadorned: no `#TYPE` line, dates
 * as en-US `DateTime.ToString()` (no time zone, which calwatch refuses), the CIM adapter's
 * own properties at the end.
 */
export function ps7CimCsv<Row extends LicenseFact | KeyPackFact>(cls: WmiClass, ctx: ExportContext): TableFormat<Row> {
  const props = (cls === 'Win32_TSIssuedLicense' ? ISSUED_PROPERTIES : KEYPACK_PROPERTIES) as unknown as Column<Row>[];
  const dated = props.map((c) =>
    c.name === 'ExpirationDate' || c.name === 'IssueDate'
      ? { name: c.name, value: (row: Row) => cimDate(c.name, row) }
      : c,
  );
  const fixed = (name: string, value: string): Column<Row> => ({ name, value: () => value, fixed: value });
  return csvTable(
    [
      ...dated,
      fixed('PSComputerName', ctx.server),
      fixed('CimClass', `root/cimv2:${cls}`),
      fixed('CimInstanceProperties', 'Microsoft.Management.Infrastructure.Internal.Data.CimPropertiesCollection'),
      fixed('CimSystemProperties', 'Microsoft.Management.Infrastructure.CimSystemProperties'),
    ],
    null,
  );
}

/** .NET round-trip format (`ToString('o')`) of a UTC DateTime: seven fractional digits. */
export function toRoundTrip(iso: string): string {
  return `${canonicalIso(iso).slice(0, 23)}0000Z`;
}

const SCRIPT_COLUMNS: Record<WmiClass, readonly string[]> = {
  Win32_TSIssuedLicense: [
    'PSComputerName', 'LicenseId', 'KeyPackId', 'sIssuedToUser', 'sIssuedToComputer', 'LicenseStatus', 'IssueDate', 'ExpirationDate', 'sHardwareId',
  ],
  Win32_TSLicenseKeyPack: [
    'PSComputerName', 'KeyPackId', 'Description', 'KeyPackType', 'ProductType', 'ProductVersion', 'ProductVersionID',
    'TotalLicenses', 'IssuedLicenses', 'AvailableLicenses', 'ExpirationDate', 'AccessRights', 'TypeAndModel',
  ],
};

/**
 * What deploy/windows/Export-CalSnapshot.ps1 -Format Csv writes under PowerShell 7: the
 * class properties selected in its order, dates as UTC round-trip instants, no `#TYPE`.
 */
export function ps7Csv<Row extends LicenseFact | KeyPackFact>(cls: WmiClass, ctx: ExportContext): TableFormat<Row> {
  const props = (cls === 'Win32_TSIssuedLicense' ? ISSUED_PROPERTIES : KEYPACK_PROPERTIES) as unknown as Column<Row>[];
  const byName = new Map(props.map((c) => [c.name, c]));
  const columns = SCRIPT_COLUMNS[cls].map((name): Column<Row> => {
    if (name === 'PSComputerName') return { name, value: () => ctx.server, fixed: ctx.server };
    if (name === 'ExpirationDate' || name === 'IssueDate') {
      return { name, value: (row) => {
        const iso = name === 'IssueDate' ? (row as LicenseFact).issueDate : row.expirationDate;
        return iso === null ? null : toRoundTrip(iso);
      } };
    }
    return byName.get(name)!;
  });
  return csvTable(columns, null);
}

function cimDate(name: string, row: LicenseFact | KeyPackFact): string | null {
  const iso = name === 'IssueDate' ? (row as LicenseFact).issueDate : row.expirationDate;
  return iso === null ? null : toEnUsDateTime(iso);
}

type JsonValue = { kind: 'string'; value: string | null } | { kind: 'number'; value: number | null } | { kind: 'date'; value: string | null };

function issuedJson(l: LicenseFact, server: string): Array<[string, JsonValue]> {
  return [
    ['PSComputerName', { kind: 'string', value: server }],
    ['LicenseId', { kind: 'number', value: l.licenseId }],
    ['KeyPackId', { kind: 'number', value: l.keyPackId }],
    ['sIssuedToUser', { kind: 'string', value: l.user }],
    ['sIssuedToComputer', { kind: 'string', value: l.computer.raw }],
    ['sHardwareId', { kind: 'string', value: l.hwid.raw }],
    ['LicenseStatus', { kind: 'number', value: LICENSE_STATUS_BY_CODE.indexOf(l.status) }],
    ['IssueDate', { kind: 'date', value: l.issueDate }],
    ['ExpirationDate', { kind: 'date', value: l.expirationDate }],
  ];
}

function keyPackJson(k: KeyPackFact, server: string): Array<[string, JsonValue]> {
  return [
    ['PSComputerName', { kind: 'string', value: server }],
    ['KeyPackId', { kind: 'number', value: k.keyPackId }],
    ['KeyPackType', { kind: 'number', value: k.keyPackType }],
    ['ProductVersion', { kind: 'string', value: k.productVersion }],
    ['ProductVersionID', { kind: 'number', value: k.productVersionId }],
    ['ProductType', { kind: 'number', value: 0 }],
    ['Description', { kind: 'string', value: k.description }],
    ['TypeAndModel', { kind: 'string', value: k.typeAndModel }],
    ['TotalLicenses', { kind: 'number', value: k.totalLicenses }],
    ['AvailableLicenses', { kind: 'number', value: k.availableLicenses }],
    ['IssuedLicenses', { kind: 'number', value: k.issuedLicenses }],
    ['ExpirationDate', { kind: 'date', value: k.expirationDate }],
    ['AccessRights', { kind: 'number', value: 1 }],
  ];
}

/**
 * `Get-CimInstance <class> | Select-Object <properties> | ConvertTo-Json`. Windows PowerShell 5.1
 * indents by four and puts two spaces after the colon; 7 indents by two. Like the real cmdlet,
 * one object is written bare and no object writes nothing (pipeline unrolling).
 */
export function psJson<Row extends LicenseFact | KeyPackFact>(
  cls: WmiClass,
  ctx: ExportContext,
  edition: '5.1' | '7',
): TableFormat<Row> {
  const fields = (row: Row) =>
    cls === 'Win32_TSIssuedLicense' ? issuedJson(row as LicenseFact, ctx.server) : keyPackJson(row as KeyPackFact, ctx.server);
  const indent = edition === '5.1' ? '    ' : '  ';
  const colon = edition === '5.1' ? ':  ' : ': ';
  const date = edition === '5.1' ? toMsJsonDate : toPs7JsonDate;
  const render = (v: JsonValue): string => {
    if (v.value === null) return 'null';
    if (v.kind === 'number') return String(v.value);
    if (v.kind === 'date') return date(v.value as string);
    return JSON.stringify(v.value);
  };
  return {
    head: (n) => (n > 1 ? `[${CRLF}` : ''),
    row: (row, i, n) => {
      const pad = n > 1 ? indent : '';
      const body = fields(row)
        .map(([k, v]) => `${pad}${indent}${JSON.stringify(k)}${colon}${render(v)}`)
        .join(`,${CRLF}`);
      return `${pad}{${CRLF}${body}${CRLF}${pad}}${n > 1 && i < n - 1 ? ',' : ''}${CRLF}`;
    },
    tail: (n) => (n > 1 ? `]${CRLF}` : ''),
  };
}
