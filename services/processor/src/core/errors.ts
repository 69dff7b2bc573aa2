import { defineErrors } from '@calwatch/model';

/** Errors of the detection core. Bad input is a value (rejected outcome), never a throw. */
export const CORE_ERRORS = defineErrors({
  PROCESSOR_CONFIG_INVALID: {
    description: 'The detection config failed validation; the message lists every problem.',
    retriable: false,
  },
  PROCESSOR_STATE_INVALID: {
    description: 'A stored stage state (changelog record) failed its schema; the key must be rebuilt from a replay.',
    retriable: false,
  },
  PROCESSOR_EVENT_TOO_LATE: {
    description: 'An event arrived further behind the newest event time than the allowed lateness; dead-letter it.',
    retriable: false,
  },
  PROCESSOR_EVENT_TIME_AHEAD: {
    description:
      'An event time is more than lateness.maxEventTimeSkewMs past its record\'s Kafka timestamp (a source clock far ahead); dead-letter it: applied, it would move the partition clock and fire every timer up to that time.',
    retriable: false,
  },
  PROCESSOR_KEY_MISMATCH: {
    description: 'A message reached a stage under a key it does not belong to: a routing bug in the caller, not bad data.',
    retriable: false,
  },
  PROCESSOR_EVENT_INVALID: {
    description: 'A message failed the canonical event schema at the core boundary; dead-letter it with the zod issues.',
    retriable: false,
  },
});
export type CoreErrorCode = keyof typeof CORE_ERRORS.table;
