import { decodeHead } from './text-decoding';
import type { InputFormat } from './types';

const GZIP_MAGIC = [0x1f, 0x8b];

export function isGzip(head: Uint8Array): boolean {
  return head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
}

/** Matches `"name":` as a JSON key (not the same word inside a value). */
function hasJsonKey(text: string, key: string): boolean {
  return new RegExp(`"${key}"\\s*:`).test(text);
}

const ISSUED_COLUMNS = ['shardwareid', 'licenseid', 'sissuedtocomputer'];
const KEYPACK_COLUMNS = ['typeandmodel', 'keypacktype', 'totallicenses', 'availablelicenses'];

function classFromNames(names: string[]): InputFormat | undefined {
  const lower = new Set(names.map((n) => n.trim().toLowerCase()));
  if (ISSUED_COLUMNS.some((c) => lower.has(c))) return 'wmi-issued-licenses';
  if (KEYPACK_COLUMNS.some((c) => lower.has(c))) return 'wmi-keypacks';
  return undefined;
}

function classFromText(text: string): InputFormat | undefined {
  if (text.includes('Win32_TSIssuedLicense')) return 'wmi-issued-licenses';
  if (text.includes('Win32_TSLicenseKeyPack')) return 'wmi-keypacks';
  return undefined;
}

function detectJson(text: string): InputFormat | undefined {
  if (hasJsonKey(text, 'schemaVersion') && hasJsonKey(text, 'eventId')) return 'canonical';
  if (hasJsonKey(text, 'winlog') || /"winlog\.[a-z_]+"\s*:/.test(text)) return 'winlogbeat';
  if (hasJsonKey(text, 'hwids')) return 'client-store';
  // WMI property names are PascalCase / Hungarian; canonical camelCase never matches these.
  if (hasJsonKey(text, 'sHardwareId') || hasJsonKey(text, 'sIssuedToComputer')) return 'wmi-issued-licenses';
  if (hasJsonKey(text, 'TypeAndModel') || hasJsonKey(text, 'KeyPackType') || hasJsonKey(text, 'TotalLicenses')) {
    return 'wmi-keypacks';
  }
  return classFromText(text);
}

function detectCsv(text: string): InputFormat | undefined {
  const lines = text.split(/\r\n|\n|\r/);
  let index = 0;
  let typeLine: string | undefined;
  if (lines[0]?.startsWith('#TYPE')) {
    typeLine = lines[0];
    index = 1;
  }
  const header = lines[index];
  if (header === undefined) return typeLine === undefined ? undefined : classFromText(typeLine);
  const names = header.split(',').map((n) => n.replace(/^\s*"|"\s*$/g, ''));
  return classFromNames(names) ?? (typeLine === undefined ? undefined : classFromText(typeLine));
}

/**
 * Sniffs the format from the first bytes of an input (a few KiB is plenty) and, when the
 * content is not decisive, the file name. Looks at the BOM / encoding, a `#TYPE` line,
 * CSV header names, `<Event`, and JSON keys (`winlog`, `schemaVersion`, `hwids`, WMI
 * property names). Returns undefined when nothing matches; gzip must be inflated first.
 */
export function detectFormat(head: Buffer, fileName?: string): InputFormat | undefined {
  if (isGzip(head)) return undefined;
  const text = decodeHead(head).replace(/^\uFEFF/, '').trimStart();
  const first = text[0];
  let found: InputFormat | undefined;
  if (first === '<') {
    found = /<(?:[\w-]+:)?Events?[\s>/]/.test(text) ? 'evtx-xml' : undefined;
  } else if (first === '{' || first === '[') {
    found = detectJson(text);
  } else if (first !== undefined) {
    found = detectCsv(text);
  }
  return found ?? detectFromName(fileName);
}

function detectFromName(fileName: string | undefined): InputFormat | undefined {
  if (fileName === undefined) return undefined;
  const name = fileName.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.xml')) return 'evtx-xml';
  if (name.includes('keypack')) return 'wmi-keypacks';
  if (name.includes('issuedlicense') || name.includes('issued-license')) return 'wmi-issued-licenses';
  return undefined;
}
