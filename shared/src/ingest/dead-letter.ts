import type { DeadLetter } from '../model/index';
import type { Rejection } from './types';

/** Builds the DeadLetter for a rejection; `at` is when calwatch rejected it (ISO instant). */
export function toDeadLetter(rejection: Rejection, at: string): DeadLetter {
  return {
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
    originalBase64: rejection.original.toString('base64'),
  };
}
