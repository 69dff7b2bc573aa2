import { z } from 'zod';
import { normalizeComputer, normalizeHwid } from './identity';

/** ISO-8601 instant in UTC with millisecond precision, e.g. `2024-06-12T09:30:15.123Z`. */
export const IsoInstant = z.iso.datetime({ offset: false });
export type IsoInstant = z.infer<typeof IsoInstant>;

/** An HWID as seen and normalised (bare lower-case hex). */
export const Hwid = z.object({
  raw: z.string(),
  norm: z.string().regex(/^[0-9a-f]+$/, 'normalised HWID is bare lower-case hex'),
});
export type Hwid = z.infer<typeof Hwid>;

/** A computer name as seen and normalised (no domain suffix, upper case). */
export const Computer = z.object({
  raw: z.string(),
  norm: z.string().min(1),
});
export type Computer = z.infer<typeof Computer>;

/** Builds an Hwid value, or undefined when the rendering holds no hex. */
export function buildHwid(raw: string): Hwid | undefined {
  const norm = normalizeHwid(raw);
  return norm === undefined ? undefined : { raw, norm };
}

export function buildComputer(raw: string): Computer {
  return { raw, norm: normalizeComputer(raw) };
}

/** `Win32_TSIssuedLicense.LicenseStatus` values, by name. */
export const LICENSE_STATUS_BY_CODE = [
  'unknown',
  'temporary',
  'active',
  'upgrade',
  'revoked',
  'pending',
  'concurrent',
] as const;
export const LicenseStatus = z.enum(LICENSE_STATUS_BY_CODE);
export type LicenseStatus = z.infer<typeof LicenseStatus>;
