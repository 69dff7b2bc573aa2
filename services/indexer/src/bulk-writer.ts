import { isRetriableElasticsearchError, type ElasticsearchClient } from '@calwatch/elasticsearch';
import { actionKey, type IndexAction } from './batch-plan';
import { classifyItemError, type DocumentSink, type ItemError, type RejectedItem, type WriteOutcome } from './bulk-outcome';
import { INDEXER_ERRORS } from './errors';

export interface BulkWriterOptions {
  client: ElasticsearchClient;
  /** Request size in NDJSON bytes at which the helper sends. */
  flushBytes: number;
  /** Requests in flight per write. */
  concurrency: number;
  /** The helper's own re-sends of 429-refused documents before giving them back as `retry`. */
  retries429: number;
  wait429Ms: number;
}

interface DroppedOperation {
  index?: { _index?: string; _id?: string };
  delete?: { _index?: string; _id?: string };
}

function toItemError(status: number, error: unknown): ItemError {
  const e = (error ?? {}) as { type?: unknown; reason?: unknown; caused_by?: { reason?: unknown } };
  const reason = typeof e.reason === 'string' ? e.reason : null;
  const cause = typeof e.caused_by?.reason === 'string' ? e.caused_by.reason : null;
  return {
    status,
    type: typeof e.type === 'string' ? e.type : null,
    reason: reason !== null && cause !== null && !reason.includes(cause) ? `${reason}: ${cause}` : reason,
  };
}

/**
 * The Elasticsearch adapter: writes documents with the client's bulk helper (its sizes
 * and concurrency come from config) and sorts the result per document. Ids are
 * deterministic, so re-sending a document overwrites it; findings carry an external_gte
 * version so an older update never replaces a newer one; a withdrawn revocation is a delete.
 */
export function createBulkWriter(options: BulkWriterOptions): DocumentSink {
  const { client } = options;
  return {
    async write(actions: readonly IndexAction[]): Promise<WriteOutcome> {
      if (actions.length === 0) return { written: 0, stale: 0, rejected: [], retry: [], requestError: null };
      const byKey = new Map<string, IndexAction>();
      for (const action of actions) byKey.set(actionKey(action.index, action.id), action);
      const rejected: RejectedItem[] = [];
      const retry = new Map<string, IndexAction>();
      const settled = new Set<string>();
      let stale = 0;
      let requestError: Error | null = null;
      try {
        await client.helpers.bulk<IndexAction>({
          datasource: [...actions],
          flushBytes: options.flushBytes,
          concurrency: options.concurrency,
          retries: options.retries429,
          wait: options.wait429Ms,
          onDocument: (action) =>
            action.delete === true
              ? { delete: { _index: action.index, _id: action.id } }
              : [
                  {
                    index: {
                      _index: action.index,
                      _id: action.id,
                      // A decimal string: the value exceeds 2^53; Elasticsearch parses it as a long.
                      ...(action.version === undefined ? {} : { version: action.version as unknown as number, version_type: 'external_gte' as const }),
                    },
                  },
                  action.document,
                ],
          onDrop: (dropped) => {
            const operation = dropped.operation as DroppedOperation;
            const op = operation.index ?? operation.delete;
            const key = actionKey(op?._index ?? '', op?._id ?? '');
            const action = byKey.get(key);
            if (action === undefined) return;
            // Deleting what is not there (withdrawn before it was ever written) is done.
            if (action.delete === true && dropped.status === 404) return;
            const error = toItemError(dropped.status, dropped.error);
            const verdict = classifyItemError(error);
            if (verdict === 'retry') {
              retry.set(key, action);
              return;
            }
            settled.add(key);
            if (verdict === 'stale') stale++;
            else rejected.push({ action, error });
          },
        });
      } catch (error) {
        if (!isRetriableElasticsearchError(error)) {
          throw INDEXER_ERRORS.create('INDEXER_BULK_FAILED', `bulk request failed: ${error instanceof Error ? error.message : String(error)}`, {
            cause: error,
          });
        }
        requestError = error instanceof Error ? error : new Error(String(error));
        // Which requests of the run landed is unknown: send every unsettled document again
        // (a re-send overwrites with the same content or version).
        for (const [key, action] of byKey) if (!settled.has(key)) retry.set(key, action);
      }
      const written = actions.length - settled.size - retry.size;
      return { written, stale, rejected, retry: [...retry.values()], requestError };
    },
  };
}
