import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { toDmtf } from './format-wmi';
import { createRandom } from './random';

/** Snapshot time of a scale export: pass it as `--as-of` / `--snapshot-time`. */
export const SCALE_EXPORT_TAKEN_AT = '2026-06-30T12:00:00.000Z';

const DAY_MS = 86_400_000;
const CLONED_NAME_PREFIX = 'KIOSK';
const CHURNING_NAME_PREFIX = 'VDI-';

/** What a scale export made a computer name: a healthy device, a cloned image's or a churning VDI name's. */
export type ScaleExportKind = 'healthy' | 'cloned-image' | 'churning-name';

/** The kind of device behind a name of a scale export (from how writeScaleExport names them). */
export function scaleExportKindOf(computerName: string): ScaleExportKind {
  if (computerName.startsWith(CLONED_NAME_PREFIX)) return 'cloned-image';
  if (computerName.startsWith(CHURNING_NAME_PREFIX)) return 'churning-name';
  return 'healthy';
}

const SERVER = 'LS01';
const HEADER =
  '#TYPE System.Management.ManagementObject#root\\cimv2\\Win32_TSIssuedLicense\r\n' +
  '"PSComputerName","__GENUS","__CLASS","__SUPERCLASS","__DYNASTY","__RELPATH","__PROPERTY_COUNT","__DERIVATION","__SERVER","__NAMESPACE","__PATH","ExpirationDate","IssueDate","KeyPackId","LicenseId","LicenseStatus","sHardwareId","sIssuedToComputer","sIssuedToUser","Scope","Path","Options","ClassPath","Properties","SystemProperties","Qualifiers","Site","Container"\r\n';

export interface ScaleExportOptions {
  rows: number;
  seed?: number;
  /** Share of rows that are CALs of cloned images (default 0.10). */
  clonedShare?: number;
  /** Rows per cloned image, on average (default 500: reissued hundreds of times). */
  rowsPerImage?: number;
  /** Share of rows that are CALs of churning VDI names, one new HWID each (default 0.05). */
  churnShare?: number;
  /** Rows (HWIDs) per churning name, on average (default 500). */
  rowsPerChurner?: number;
}

/**
 * Writes a `Win32_TSIssuedLicense` table the size of a real license server, as Windows
 * PowerShell 5.1 `Export-Csv` writes it (about 710 bytes a row). By default 85 % healthy
 * devices with one CAL each, 10 % cloned images (one HWID per image, reissued about 500
 * times across 2–8 names), 5 % churning VDI names (a new HWID per CAL, about 500 a name on
 * average), like the reference generator in ../shared/scale-export. All CALs are permanent and were
 * issued in the 50 days before SCALE_EXPORT_TAKEN_AT, so state per HWID and per name grows
 * large. The same options write the same bytes.
 */
export async function writeScaleExport(path: string, options: ScaleExportOptions): Promise<{ rows: number; bytes: number }> {
  const random = createRandom(0x5ca1e, options.seed ?? 7);
  const hwid = () => Array.from({ length: 5 }, () => `0x${random.uint32().toString(16).padStart(8, '0')}`).join('-');
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  const takenAtMs = Date.parse(SCALE_EXPORT_TAKEN_AT);
  const clonedShare = options.clonedShare ?? 0.1;
  const churnShare = options.churnShare ?? 0.05;
  const images = Math.max(1, Math.floor((options.rows * clonedShare) / (options.rowsPerImage ?? 500)));
  const clones = Array.from({ length: images }, (_, image) => ({
    hwid: hwid(),
    names: Array.from({ length: random.int(2, 8) }, (_, k) => `${CLONED_NAME_PREFIX}${pad(image, 3)}-${pad(k, 2)}`),
  }));
  const churners = Array.from({ length: Math.max(1, Math.floor((options.rows * churnShare) / (options.rowsPerChurner ?? 500))) }, (_, i) => `${CHURNING_NAME_PREFIX}${pad(i, 4)}`);
  const pick = <T>(items: readonly T[]): T => items[random.int(0, items.length - 1)]!;

  const out = createWriteStream(path, { encoding: 'latin1' });
  let bytes = 0;
  let buffer = HEADER;
  const flush = async () => {
    bytes += buffer.length;
    if (!out.write(buffer)) await once(out, 'drain');
    buffer = '';
  };
  for (let licenseId = 1; licenseId <= options.rows; licenseId++) {
    const kind = random.next();
    const issuedMs = takenAtMs - Math.floor(random.next() * 50 * DAY_MS) - random.int(0, 86_400) * 1000;
    const issued = Math.floor(issuedMs / 1000) * 1000;
    const expires = issued + random.int(52, 89) * DAY_MS;
    let id: string;
    let name: string;
    if (kind < clonedShare) {
      const clone = pick(clones);
      id = clone.hwid;
      name = pick(clone.names);
    } else if (kind < clonedShare + churnShare) {
      id = hwid();
      name = pick(churners);
    } else {
      id = hwid();
      name = `PC-${pad(licenseId, 6)}`;
    }
    const rel = `Win32_TSIssuedLicense.KeyPackId=2,LicenseId=${licenseId}`;
    const wmiPath = `\\\\${SERVER}\\root\\cimv2:${rel}`;
    buffer +=
      `"${SERVER}","2","Win32_TSIssuedLicense","","Win32_TSIssuedLicense","${rel}","8","System.String[]","${SERVER}","root\\cimv2","${wmiPath}",` +
      `"${toDmtf(new Date(expires).toISOString())}","${toDmtf(new Date(issued).toISOString())}","2","${licenseId}","2","${id}","${name}","CONTOSO\\u${pad(licenseId % 50_000, 5)}",` +
      `"System.Management.ManagementScope","${wmiPath}","System.Management.ObjectGetOptions","\\\\${SERVER}\\root\\cimv2:Win32_TSIssuedLicense",` +
      `"System.Management.PropertyDataCollection","System.Management.PropertyDataCollection","System.Management.QualifierDataCollection","",""\r\n`;
    if (buffer.length > 1 << 20) await flush();
  }
  await flush();
  out.end();
  await once(out, 'finish');
  return { rows: options.rows, bytes };
}
