import { defineErrors } from '@calwatch/model';

/** Failures of `calwatch replay` (and of the replay machinery `calwatch demo` streams with). */
export const REPLAY_ERRORS = defineErrors({
  REPLAY_NO_INPUTS: {
    description: 'The paths, directories and globs given name no readable file; check the spelling or quote globs so the shell does not expand them.',
    retriable: false,
  },
  REPLAY_INPUT_UNREADABLE: {
    description: 'An input file or directory could not be read (missing, permission denied); the message names it.',
    retriable: false,
  },
  REPLAY_UNKNOWN_FORMAT: {
    description:
      'An input named on the command line matches no format calwatch reads (WMI export, Winlogbeat NDJSON, event XML, canonical or client-store NDJSON). Files found by walking a directory are skipped instead.',
    retriable: false,
  },
  REPLAY_CHECKPOINT_INVALID: {
    description: 'The checkpoint file exists but is not one calwatch wrote; remove it or point --checkpoint elsewhere.',
    retriable: false,
  },
  REPLAY_CHECKPOINT_MISMATCH: {
    description:
      'The checkpoint belongs to another replay (other topic prefix or inputs that changed size or time since); resume needs the same inputs and namespace, or start afresh without --resume.',
    retriable: false,
  },
  REPLAY_TOPICS_MISSING: {
    description: 'A --live replay found the calwatch topics missing; run `calwatch setup` for the live prefix first (a namespace replay creates its own).',
    retriable: false,
  },
  REPLAY_COLLECTOR_REFUSED: {
    description:
      'The collector at --collector-url refused a request for good (401 token, 400, 413, 415); the message carries its error code. Nothing after it was sent; fix and resume.',
    retriable: false,
  },
  REPLAY_COLLECTOR_UNAVAILABLE: {
    description: 'The collector at --collector-url kept answering 429/503 or could not be reached until the retry budget ran out; resume later.',
    retriable: true,
  },
  REPLAY_PUBLISH_FAILED: {
    description: 'Kafka did not take the records of an in-process replay; what was acknowledged is in the checkpoint, so --resume continues after it.',
    retriable: true,
  },
  REPLAY_DRAIN_TIMEOUT: {
    description: 'With --process, the processor and indexer did not catch up with the replayed records within --drain-timeout; results may be incomplete.',
    retriable: true,
  },
  REPLAY_EVENT_TIME_AHEAD: {
    description:
      'Dead-letter code: an event of an event file is more than the allowed skew (one day) past the newest time of the inputs (file modification or snapshot time, at most the wall clock); it is dead-lettered, not sent.',
    retriable: false,
  },
  REPLAY_INTERRUPTED: {
    description: 'The replay stopped on SIGINT/SIGTERM after the batch in flight; the checkpoint records what was sent, so --resume continues there.',
    retriable: true,
  },
});

export type ReplayErrorCode = keyof typeof REPLAY_ERRORS.table;
