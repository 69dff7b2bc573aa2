import { Finding, type Consumer, type KafkaClient } from '@calwatch/shared';

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
        if (record.value === null) continue;
        let json: unknown;
        try {
          json = JSON.parse(record.value.toString('utf8'));
        } catch {
          continue;
        }
        const parsed = Finding.safeParse(json);
        if (!parsed.success) continue;
        const previous = latest.get(parsed.data.id);
        if (previous !== undefined && previous.revision > parsed.data.revision) continue;
        latest.set(parsed.data.id, parsed.data);
        options.onChange(previous, parsed.data);
      }
    },
  });
  return { latest: () => [...latest.values()], stop: () => consumer.stop() };
}
