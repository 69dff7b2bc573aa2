/** Kafka record size limits: facts about the broker, used by config and by the Kafka adapter. */

/** The broker's default max.message.bytes (a whole record batch, after compression). */
export const BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/**
 * What a batch adds around its records: the v2 batch header (61 bytes) plus each record's
 * varint framing (length, attributes, deltas, key/value/header lengths), rounded up
 * generously so a limit derived from max.message.bytes is never touched by framing.
 */
export const RECORD_BATCH_OVERHEAD_BYTES = 16 * 1024;

/** Largest record a topic with this max.message.bytes takes with room for the batch around it. */
export function recordLimitFor(maxMessageBytes: number): number {
  return maxMessageBytes - RECORD_BATCH_OVERHEAD_BYTES;
}

/** Client-wide default: the broker default less the batch overhead. */
export const DEFAULT_MAX_RECORD_BYTES = recordLimitFor(BROKER_DEFAULT_MAX_MESSAGE_BYTES);
