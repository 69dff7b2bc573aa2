import { defineErrors } from '@calwatch/model';

/** Every error code the notifier raises or writes to the dead-letter topic. */
export const NOTIFIER_ERRORS = defineErrors({
  NOTIFIER_CONFIG_INVALID: {
    description: 'NOTIFIER_CONFIG_FILE could not be read, refers to unset ${VAR}s or its targets failed validation; the message lists every problem without secret values (problems in environment variables, NOTIFIER_TARGETS included, are SHARED_CONFIG_INVALID). Fix the configuration and restart.',
    retriable: false,
  },
  NOTIFIER_INVALID_FINDING: {
    description: 'A record on the findings topic is not JSON or not a Finding; it is dead-lettered with the zod issues and the original bytes, and consumption goes on.',
    retriable: false,
  },
  NOTIFIER_INVALID_ENRICHED: {
    description: 'A record on the enriched topic is not JSON or not an EnrichedEvent; it is dead-lettered with the zod issues and the original bytes, and consumption goes on.',
    retriable: false,
  },
  NOTIFIER_STATE_INVALID: {
    description: 'A record on the alert-state topic could not be decoded at restore and was skipped (logged and counted); the alert it described starts afresh.',
    retriable: false,
  },
  NOTIFIER_TARGET_RATE_LIMITED: {
    description: 'The target answered 429 (or Teams reported a throttled post); retried after Retry-After or the backoff.',
    retriable: true,
  },
  NOTIFIER_TARGET_UNAVAILABLE: {
    description: 'The target answered 408 or 5xx; retried with backoff and jitter.',
    retriable: true,
  },
  NOTIFIER_TARGET_TIMEOUT: {
    description: 'The target did not answer within the request timeout; retried with backoff and jitter.',
    retriable: true,
  },
  NOTIFIER_TARGET_UNREACHABLE: {
    description: 'The connection to the target failed (DNS, refused, reset, TLS); retried with backoff and jitter.',
    retriable: true,
  },
  NOTIFIER_TARGET_REJECTED: {
    description: 'The target refused the message for good (4xx other than 408/429: bad payload, unknown webhook, wrong routing key). Not retried; dead-lettered.',
    retriable: false,
  },
  NOTIFIER_DELIVERY_GAVE_UP: {
    description: 'A notification could not be delivered to one target within NOTIFIER_GIVE_UP_AFTER_MS (or was rejected); it is dead-lettered with the notification and counted in calwatch_notifier_delivery_failures_total. Other targets are unaffected.',
    retriable: false,
  },
  NOTIFIER_UNKNOWN_TARGET: {
    description: '`calwatch notify test <target>` named a target that is not configured; the message lists the configured names.',
    retriable: false,
  },
  NOTIFIER_STATE_WRITE_FAILED: {
    description: 'Alert state could not be written to the alert-state topic. A batch is then not committed and comes again (records already folded in are skipped); ticks and delivery receipts are written with the next successful write. Nothing is delivered before its state is written.',
    retriable: false,
  },
});

export type NotifierErrorCode = keyof typeof NOTIFIER_ERRORS.table;
