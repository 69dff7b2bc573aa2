import { z } from 'zod';
import { IsoInstant } from './primitives';

/** A record calwatch could not accept, with why and the original bytes: nothing is lost. */
export const DeadLetter = z.object({
  schemaVersion: z.literal(1),
  at: IsoInstant,
  /** Stable error code, e.g. COLLECTOR_INVALID_RECORD. */
  code: z.string(),
  reason: z.string(),
  /** Where: file or endpoint, line or record number, field. */
  location: z.object({
    ref: z.string(),
    line: z.number().int().nullable(),
    record: z.number().int().nullable(),
    field: z.string().nullable(),
  }),
  issues: z.array(z.object({ path: z.string(), message: z.string() })),
  /** The original bytes, base64, so the record can be fixed and re-sent. */
  originalBase64: z.string(),
});
export type DeadLetter = z.infer<typeof DeadLetter>;
