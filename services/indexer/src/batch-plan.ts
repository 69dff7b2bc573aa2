import { type IncomingRecord } from '@calwatch/kafka';
import { EnrichedEventRecord, FindingRecord, Revocation, buildRevocationKey, decodeRecord } from '@calwatch/model';
import type { z } from 'zod';
import type { DeadLetterDraft } from './dead-letters';
import type { IndexerErrorCode } from './errors';
import { buildEnrichedDocument, buildFindingDocument, buildFindingVersion, buildRevocationDocument, type Document } from './documents';
import type { IndexNames } from './index-names';

/** One document to write, with the record it came from (for dead-lettering). */
export interface IndexAction {
  index: string;
  id: string;
  document: Document;
  /** external_gte version (decimal string) for findings; absent for enriched events and revocations. */
  version?: string;
  /** Remove the document instead (a withdrawn revocation); `document` is then unused. */
  delete?: true;
  record: IncomingRecord;
}

export interface BatchPlan {
  actions: IndexAction[];
  invalid: DeadLetterDraft[];
  /** Records whose document a later record of the same batch replaces (same id). */
  superseded: number;
}

/** Elasticsearch's limit on `_id`. */
const MAX_ID_BYTES = 512;

export type InputKind = 'findings' | 'enriched' | 'revocations';

export interface PlanOptions {
  names: IndexNames;
  /** Topic name → what it carries. */
  topics: ReadonlyMap<string, InputKind>;
  /** ECS event.ingested of the documents built. */
  now: string;
}

/** Decodes a record with its topic's schema; a failure becomes a draft with the indexer's codes. */
function decode<S extends z.ZodType>(record: IncomingRecord, schema: S, invalid: IndexerErrorCode, what: string): { ok: true; value: z.infer<S> } | { ok: false; draft: DeadLetterDraft } {
  const decoded = decodeRecord(record, schema, { codes: { empty: 'INDEXER_EMPTY_RECORD', notJson: 'INDEXER_INVALID_JSON', invalid }, what });
  return decoded.ok ? decoded : { ok: false, draft: { record, ...decoded.problem } };
}

function toAction(record: IncomingRecord, kind: InputKind, options: PlanOptions): IndexAction | DeadLetterDraft {
  if (kind === 'findings') {
    const parsed = decode(record, FindingRecord, 'INDEXER_INVALID_FINDING', 'finding');
    if (!parsed.ok) return parsed.draft;
    const finding = parsed.value;
    const idBytes = Buffer.byteLength(finding.id);
    if (idBytes === 0 || idBytes > MAX_ID_BYTES) {
      // Elasticsearch fails the whole bulk request on such an id, not just this document.
      return {
        record,
        code: 'INDEXER_INVALID_FINDING',
        reason: `finding id must be 1 to ${MAX_ID_BYTES} bytes, got ${idBytes}`,
        issues: [{ path: 'id', message: 'unusable as a document id' }],
      };
    }
    return {
      index: options.names.findingsIndex,
      id: finding.id,
      document: buildFindingDocument(finding, options.now),
      version: buildFindingVersion(finding),
      record,
    };
  }
  if (kind === 'revocations') {
    const parsed = decode(record, Revocation, 'INDEXER_INVALID_REVOCATION', 'revocation');
    if (!parsed.ok) return parsed.draft;
    const revocation = parsed.value;
    // One row per license: the same id for every change of it, whichever finding plans it.
    const id = buildRevocationKey(revocation.licenseServer, revocation.licenseId);
    if (revocation.state === 'withdrawn') return { index: options.names.revocationsIndex, id, document: {}, delete: true, record };
    return { index: options.names.revocationsIndex, id, document: buildRevocationDocument(revocation, options.now), record };
  }
  const parsed = decode(record, EnrichedEventRecord, 'INDEXER_INVALID_ENRICHED_EVENT', 'enriched event');
  if (!parsed.ok) return parsed.draft;
  const enriched = parsed.value;
  return {
    index: options.names.enrichedIndexFor(enriched.event.eventTime),
    id: enriched.event.eventId,
    document: buildEnrichedDocument(enriched, options.now),
    record,
  };
}

export function actionKey(index: string, id: string): string {
  return `${index}\u0000${id}`;
}

/** True when `candidate` should replace `current` for the same document id. */
function replaces(candidate: IndexAction, current: IndexAction): boolean {
  if (candidate.version !== undefined && current.version !== undefined) {
    return BigInt(candidate.version) >= BigInt(current.version);
  }
  return true;
}

/**
 * Decodes a batch into documents (pure). Invalid records become dead-letter drafts; of
 * several records for one document only the one Elasticsearch would keep is sent (the
 * highest version for findings, the last for events), so one bulk never races itself.
 */
export function planBatch(records: readonly IncomingRecord[], options: PlanOptions): BatchPlan {
  const byKey = new Map<string, IndexAction>();
  const invalid: DeadLetterDraft[] = [];
  let superseded = 0;
  for (const record of records) {
    const kind = options.topics.get(record.topic);
    if (kind === undefined) throw new RangeError(`record from unexpected topic ${record.topic}`);
    const result = toAction(record, kind, options);
    if (!('index' in result)) {
      invalid.push(result);
      continue;
    }
    const key = actionKey(result.index, result.id);
    const current = byKey.get(key);
    if (current === undefined) byKey.set(key, result);
    else {
      superseded++;
      if (replaces(result, current)) byKey.set(key, result);
    }
  }
  return { actions: [...byKey.values()], invalid, superseded };
}
