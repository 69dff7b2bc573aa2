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
  /** The original bytes, base64 (the first DEAD_LETTER_ORIGINAL_MAX_BYTES of them), so the record can be fixed and re-sent. */
  originalBase64: z.string(),
  /** Length of the original in bytes, when originalBase64 holds only its first part. */
  originalBytes: z.number().int().nonnegative().optional(),
});
export type DeadLetter = z.infer<typeof DeadLetter>;

/**
 * Bytes of the original kept in a dead letter. With the reason and issues also cut, a
 * dead letter stays far below the broker's 1 MB record limit whatever the input was.
 */
export const DEAD_LETTER_ORIGINAL_MAX_BYTES = 64 * 1024;
const REASON_MAX_CHARS = 2_000;
const ISSUES_MAX = 50;
const ISSUE_TEXT_MAX_CHARS = 500;

function cutText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** The original payload of a dead letter: its first DEAD_LETTER_ORIGINAL_MAX_BYTES, and its full length when cut. */
export function buildDeadLetterOriginal(original: Buffer | string): Pick<DeadLetter, 'originalBase64' | 'originalBytes'> {
  const bytes = typeof original === 'string' ? Buffer.from(original, 'utf8') : original;
  if (bytes.length <= DEAD_LETTER_ORIGINAL_MAX_BYTES) return { originalBase64: bytes.toString('base64') };
  return { originalBase64: bytes.subarray(0, DEAD_LETTER_ORIGINAL_MAX_BYTES).toString('base64'), originalBytes: bytes.length };
}

/**
 * Bounds the parts of a dead letter that come from the input (reason, issues): every
 * dead letter goes through this before it is written, so one fits the topic however
 * large the record that caused it.
 */
export function boundDeadLetter(letter: DeadLetter): DeadLetter {
  return {
    ...letter,
    reason: cutText(letter.reason, REASON_MAX_CHARS),
    location: { ...letter.location, ref: cutText(letter.location.ref, REASON_MAX_CHARS), field: letter.location.field === null ? null : cutText(letter.location.field, ISSUE_TEXT_MAX_CHARS) },
    issues: letter.issues.slice(0, ISSUES_MAX).map((issue) => ({ path: cutText(issue.path, ISSUE_TEXT_MAX_CHARS), message: cutText(issue.message, ISSUE_TEXT_MAX_CHARS) })),
  };
}
