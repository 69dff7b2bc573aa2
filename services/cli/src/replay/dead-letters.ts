import type { IncomingRecord, KafkaClient } from '@calwatch/kafka';
import { DeadLetter, parseRecordJson } from '@calwatch/model';
import { readWholeTopic } from './read-topic';

/** Dead letters per code; records that do not decode count as `(undecodable)` rather than vanish. */
export function countDeadLettersByCode(records: Iterable<Pick<IncomingRecord, 'value'>>, into: Map<string, number> = new Map()): Map<string, number> {
  for (const record of records) {
    const json = parseRecordJson(record.value);
    const parsed = json.ok ? DeadLetter.safeParse(json.value) : undefined;
    const code = parsed?.success === true ? parsed.data.code : '(undecodable)';
    into.set(code, (into.get(code) ?? 0) + 1);
  }
  return into;
}

/**
 * Every dead letter of a namespace's topic by code: with --process, what the processor and
 * indexer refused (an event too late, too far ahead) besides what the replay itself
 * rejected, so a summary never hides records that did not count.
 */
export async function readDeadLetterCounts(kafka: KafkaClient, topic: string): Promise<Record<string, number>> {
  const counts = new Map<string, number>();
  await readWholeTopic(kafka, topic, (records) => {
    countDeadLettersByCode(records, counts);
  });
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
}
