import { defineErrors } from '@calwatch/model';

/** Errors the ingest code throws: programming errors of the caller, never bad input. */
export const INGEST_ERRORS = defineErrors({
  INGEST_SNAPSHOT_SERVER_MISMATCH: {
    description: 'diffSnapshot was given the state of another license server; state must be kept per license server.',
    retriable: false,
  },
});
