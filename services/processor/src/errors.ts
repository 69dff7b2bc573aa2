import { defineErrors } from '@calwatch/shared';

/**
 * Codes of the streaming runtime: dead letters it writes, start-up failures, restore
 * problems. The detection core has its own table (core/errors.ts); a test keeps the two
 * disjoint so a code always means one thing.
 */
export const PROCESSOR_ERRORS = defineErrors({
  PROCESSOR_RECORD_NOT_JSON: {
    description: 'A record on the events topic (or an internal topic) is empty or not JSON; dead-lettered with the original bytes.',
    retriable: false,
  },
  PROCESSOR_EVENT_MISKEYED: {
    description:
      'An event arrived under a record key other than its own (HWID for license events, license server otherwise). Applying it would split a key\'s state over partitions, so it is dead-lettered; re-send it keyed by kafkaKeyOf(event).',
    retriable: false,
  },
  PROCESSOR_INTERNAL_MESSAGE_INVALID: {
    description:
      'A record on a repartition topic lacks the calwatch-at/-order/-source headers or failed the stage message or watermark schema (a writer of another version, or a foreign producer); dead-lettered.',
    retriable: false,
  },
  PROCESSOR_STAGE_FAILED: {
    description: 'A detection stage threw on a message (a bug, not bad data); the message is dead-lettered with the error and processing goes on.',
    retriable: false,
  },
  PROCESSOR_TOPICS_MISSING: {
    description: 'A topic the processor reads or writes does not exist; run `calwatch setup` for this prefix and start again.',
    retriable: false,
  },
  PROCESSOR_TOPOLOGY_MISMATCH: {
    description:
      'The processor topics do not share one partition count; state, changelogs and repartition topics must be co-partitioned. Recreate the namespace with one count.',
    retriable: false,
  },
  PROCESSOR_DETECTION_CONFIG_UNREADABLE: {
    description: 'PROCESSOR_DETECTION_CONFIG is neither a JSON object nor a readable JSON file.',
    retriable: false,
  },
  PROCESSOR_CHANGELOG_RECORD_INVALID: {
    description:
      'A task-meta or buffer record read back from a changelog failed its schema; the record is ignored and the task continues without it (a replay of the namespace rebuilds it).',
    retriable: false,
  },
  PROCESSOR_RESTORE_FAILED: {
    description: 'Reading a changelog to restore state failed; the batch waits and the restore is tried again.',
    retriable: true,
  },
});

export type ProcessorErrorCode = keyof typeof PROCESSOR_ERRORS.table;
