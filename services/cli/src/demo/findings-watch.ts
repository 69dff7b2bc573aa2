import type { Consumer, KafkaClient } from '@calwatch/kafka';
import type { Finding } from '@calwatch/model';
import { decodeFinding, keepLatest } from '../replay/findings';

export interface FindingsWatch {
  /** The latest revision of every finding seen. */
  latest(): Finding[];
  stop(): Promise<void>;
}

/**
 * Follows a findings topic from its start with a group of its own and reports each
 * finding whose revision moved on (what the live table shows).
 */
export async function watchFindings(options: {
  kafka: KafkaClient;
  topic: string;
  groupId: string;
  onChange: (previous: Finding | undefined, next: Finding) => void;
}): Promise<FindingsWatch> {
  const latest = new Map<string, Finding>();
  const consumer: Consumer = options.kafka.createConsumer({ groupId: options.groupId, maxWaitTimeMs: 200 });
  await consumer.start({
    topics: [options.topic],
    fromBeginning: true,
    eachBatch: async (records) => {
      for (const record of records) {
        const finding = decodeFinding(record.value);
        if (finding === undefined) continue;
        const previous = latest.get(finding.id);
        if (keepLatest(latest, finding)) options.onChange(previous, finding);
      }
    },
  });
  return { latest: () => [...latest.values()], stop: () => consumer.stop() };
}
