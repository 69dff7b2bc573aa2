import { defineErrors } from '@calwatch/model';

/**
 * Codes of the streaming runtime: dead letters it writes, start-up failures, restore
 * problems. The detection core has its own table (core/errors.ts); a test keeps the two
 * disjoint so a code always means one thing.
 */
export const PROCESSOR_ERRORS = defineErrors({
  PROCESSOR_RECORD_NOT_JSON: {
    description: 'A record on the events topic is empty or not JSON; dead-lettered with the original bytes.',
    retriable: false,
  },
  PROCESSOR_EVENT_MISKEYED: {
    description:
      'An event arrived under a record key other than its license server. Applying it would split a server\'s state over partitions, so it is dead-lettered; re-send it keyed by kafkaKeyOf(event).',
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
      'The processor topics do not share one partition count; the events and the state changelog must be co-partitioned. Recreate the namespace with one count.',
    retriable: false,
  },
  PROCESSOR_DETECTION_CONFIG_UNREADABLE: {
    description: 'PROCESSOR_DETECTION_CONFIG is neither a JSON object nor a readable JSON file.',
    retriable: false,
  },
  PROCESSOR_CHANGELOG_RECORD_INVALID: {
    description:
      'A task-meta, buffer or state entry record read back from the changelog failed its schema or has a key this processor does not write; the record is ignored and the task continues without it (a replay of the namespace rebuilds it).',
    retriable: false,
  },
  PROCESSOR_RESTORE_FAILED: {
    description: 'Reading a changelog to restore state failed; the batch waits and the restore is tried again.',
    retriable: true,
  },
});

export type ProcessorErrorCode = keyof typeof PROCESSOR_ERRORS.table;
