import type { DeadLetterDraft } from './dead-letters';
import type { IndexAction } from './batch-plan';

/** What became of one document of a bulk request that Elasticsearch answered for it. */
export type ItemVerdict = 'stale' | 'retry' | 'rejected';

export interface ItemError {
  status: number;
  type: string | null;
  reason: string | null;
}

/**
 * 409 on an external_gte write means a newer version is already indexed: the older update
 * is correctly not applied. 429 and 5xx are the node's state, not the document's: retry.
 * Every other refusal (mapping conflicts, strict-mapping violations, missing index with
 * auto-create off) is about the document and will not change by retrying.
 */
export function classifyItemError(error: ItemError): ItemVerdict {
  if (error.status === 409 && error.type === 'version_conflict_engine_exception') return 'stale';
  if (error.status === 429 || error.status >= 500) return 'retry';
  return 'rejected';
}

/** The field a mapping error names, e.g. `host.name`, or null. */
export function fieldOfItemError(reason: string | null): string | null {
  if (reason === null) return null;
  const strict = /introduction of \[([^\]]+)\] within \[([^\]]+)\]/.exec(reason);
  if (strict !== null) {
    const [, name, parent] = strict;
    return parent === '_doc' ? (name ?? null) : `${parent}.${name}`;
  }
  const parse = /field \[([^\]]+)\]/.exec(reason);
  return parse?.[1] ?? null;
}

export interface RejectedItem {
  action: IndexAction;
  error: ItemError;
}

export function buildRejectionDraft(item: RejectedItem): DeadLetterDraft {
  const { action, error } = item;
  const what = [error.type, error.reason].filter((part) => part !== null && part !== '').join(': ');
  return {
    record: action.record,
    code: 'INDEXER_DOCUMENT_REJECTED',
    reason: `Elasticsearch refused document ${action.id} in ${action.index} (status ${error.status})${what === '' ? '' : `: ${what}`}`,
    issues: [{ path: fieldOfItemError(error.reason) ?? '', message: error.reason ?? error.type ?? `status ${error.status}` }],
    field: fieldOfItemError(error.reason),
  };
}

/** What one write of a set of documents came to. */
export interface WriteOutcome {
  /** Acknowledged by Elasticsearch (including overwrites of the same version). */
  written: number;
  /** Not applied because a newer version is indexed. */
  stale: number;
  rejected: RejectedItem[];
  /** To send again: refused with 429/5xx, or in a request that failed as a whole. */
  retry: IndexAction[];
  /** Set when a whole request failed retriably (connection lost, 5xx, 429). */
  requestError: Error | null;
}

/** Where documents go; the one implementation is bulk-writer.ts, tests pass their own. */
export interface DocumentSink {
  /** Throws only for a non-retriable failure of a whole request (authentication, bad request). */
  write(actions: readonly IndexAction[]): Promise<WriteOutcome>;
}
