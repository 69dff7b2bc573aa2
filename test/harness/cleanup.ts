/**
 * Removes what a test or benchmark created on the shared broker and node. Best effort: a
 * failed delete leaves litter behind, never a failed run. No vitest import, so the
 * benchmarks use it too.
 */
import type { ElasticsearchClient } from '@calwatch/elasticsearch';
import type { KafkaClient } from '@calwatch/kafka';
import type { IndexNames } from '@calwatch/indexer';

/** Deletes every topic whose name starts with one of `prefixes`. */
export async function deleteTopicsWithPrefix(kafka: KafkaClient, ...prefixes: string[]): Promise<void> {
  const admin = await kafka.createAdmin();
  try {
    const mine = (await admin.listTopics()).filter((topic) => prefixes.some((prefix) => topic.startsWith(prefix)));
    await admin.deleteTopics(mine).catch(() => undefined);
  } finally {
    await admin.close();
  }
}

/** Deletes the indices of an index prefix and the templates es-setup installed for it. */
export async function deleteIndexSet(client: ElasticsearchClient, names: IndexNames): Promise<void> {
  await client.indices.delete({ index: `${names.prefix}*`, ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
  for (const name of [names.templates.enriched, names.templates.findings, names.templates.revocations]) await client.indices.deleteIndexTemplate({ name }).catch(() => undefined);
  for (const name of [
    names.templates.settings,
    names.templates.commonMappings,
    names.templates.enrichedMappings,
    names.templates.findingsMappings,
    names.templates.revocationsMappings,
  ]) {
    await client.cluster.deleteComponentTemplate({ name }).catch(() => undefined);
  }
}
