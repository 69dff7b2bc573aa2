import { boundDeadLetter, buildDeadLetterOriginal, type DeadLetter } from '@calwatch/model';
import type { Rejection } from './types';

/** Builds the DeadLetter for a rejection; `at` is when calwatch rejected it (ISO instant). */
export function toDeadLetter(rejection: Rejection, at: string): DeadLetter {
  return boundDeadLetter({
    schemaVersion: 1,
    at,
    code: rejection.code,
    reason: rejection.reason,
    location: {
      ref: rejection.ref,
      line: rejection.line,
      record: rejection.record,
      field: rejection.field,
    },
    issues: rejection.issues,
    ...buildDeadLetterOriginal(rejection.original),
  });
}
