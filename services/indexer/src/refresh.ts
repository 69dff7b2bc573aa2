import type { ElasticsearchClient } from '@calwatch/elasticsearch';
import { INDEXER_ERRORS } from './errors';
import type { IndexNames } from './index-names';

/** What `suspendRefresh` changed, to put back. */
export interface RefreshSuspension {
  /** Index → refresh_interval before the load (null: it had none set, the node default). */
  previous: Record<string, string | null>;
}

function targetsOf(names: IndexNames): string {
  return `${names.enrichedPattern},${names.findingsIndex},${names.revocationsIndex}`;
}

/**
 * For a replay or bulk load: stops periodic refreshes of calwatch's indices (refresh_interval
 * -1) so Elasticsearch spends its time indexing. Indices created during the load get the
 * template's interval and keep refreshing. Always pair with `restoreRefresh`.
 */
export async function suspendRefresh(client: ElasticsearchClient, names: IndexNames): Promise<RefreshSuspension> {
  const index = targetsOf(names);
  try {
    const settings = await client.indices.getSettings({
      index,
      name: 'index.refresh_interval',
      allow_no_indices: true,
      ignore_unavailable: true,
      expand_wildcards: 'open',
    });
    const previous: Record<string, string | null> = {};
    for (const [name, value] of Object.entries(settings)) {
      const interval = (value.settings as { index?: { refresh_interval?: string } } | undefined)?.index?.refresh_interval;
      previous[name] = interval ?? null;
    }
    const indices = Object.keys(previous);
    if (indices.length > 0) {
      await client.indices.putSettings({ index: indices.join(','), settings: { index: { refresh_interval: '-1' } } });
    }
    return { previous };
  } catch (error) {
    throw INDEXER_ERRORS.create('INDEXER_SETUP_FAILED', `suspend refresh of ${index}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}

/** Puts each index's refresh_interval back and refreshes once, so the load is searchable. */
export async function restoreRefresh(client: ElasticsearchClient, suspension: RefreshSuspension): Promise<void> {
  const byValue = new Map<string | null, string[]>();
  for (const [index, value] of Object.entries(suspension.previous)) {
    const list = byValue.get(value) ?? [];
    list.push(index);
    byValue.set(value, list);
  }
  try {
    for (const [value, indices] of byValue) {
      // null removes the index-level setting, which restores the node default.
      await client.indices.putSettings({ index: indices.join(','), settings: { index: { refresh_interval: value } } as never });
    }
    const all = Object.keys(suspension.previous);
    if (all.length > 0) await client.indices.refresh({ index: all.join(','), ignore_unavailable: true });
  } catch (error) {
    throw INDEXER_ERRORS.create('INDEXER_SETUP_FAILED', `restore refresh: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** Runs `load` with refreshes suspended and restores them whatever happens. */
export async function withRefreshSuspended<T>(client: ElasticsearchClient, names: IndexNames, load: () => Promise<T>): Promise<T> {
  const suspension = await suspendRefresh(client, names);
  try {
    return await load();
  } finally {
    await restoreRefresh(client, suspension);
  }
}
