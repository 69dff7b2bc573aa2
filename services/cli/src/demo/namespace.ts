import { type ElasticsearchClient } from '@calwatch/elasticsearch';
import { ensureCalwatchTopics, type KafkaClient } from '@calwatch/kafka';
import { buildTopicSpecs, type TopicLayout, type TopicNames } from '@calwatch/model';
import { retry } from '@calwatch/runtime';
import { pause } from '../replay/pacing';

/**
 * Starts the demo's namespace afresh: its topics are deleted (and awaited gone) and
 * created again, its indices deleted (by name: wildcard deletes may be refused), so a
 * second demo does not diff against the first one's state. Only the namespace's own
 * names are touched.
 */
export async function resetNamespace(options: {
  kafka: KafkaClient;
  elasticsearch: ElasticsearchClient;
  topics: TopicNames;
  layout: TopicLayout;
  indexPrefix: string;
  signal?: AbortSignal;
}): Promise<{ topicsDeleted: number; indicesDeleted: number }> {
  const { kafka, elasticsearch, topics } = options;
  const wanted = new Set(buildTopicSpecs(topics, options.layout).map((s) => s.topic));
  const admin = await kafka.createAdmin();
  let existing: string[];
  try {
    existing = (await admin.listTopics()).filter((t) => wanted.has(t));
    if (existing.length > 0) {
      await admin.deleteTopics(existing);
      for (let waited = 0; waited < 30_000; waited += 250) {
        const left = (await admin.listTopics()).filter((t) => wanted.has(t));
        if (left.length === 0) break;
        await pause(250, options.signal);
      }
    }
  } finally {
    await admin.close();
  }
  // Right after a delete the broker may still refuse the same name for a moment.
  await retry(() => ensureCalwatchTopics(kafka, topics, options.layout), { retries: 10, minDelayMs: 300, maxDelayMs: 3_000, isRetriable: () => true });

  const indices = await elasticsearch.indices.get({ index: `${options.indexPrefix}*`, allow_no_indices: true, ignore_unavailable: true, expand_wildcards: 'all' });
  const names = Object.keys(indices);
  if (names.length > 0) await elasticsearch.indices.delete({ index: names.join(',') });
  return { topicsDeleted: existing.length, indicesDeleted: names.length };
}
