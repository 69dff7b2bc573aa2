import { defineErrors } from '@calwatch/model';

/**
 * Every code the indexer reports: in dead letters it writes, in start-up failures and in
 * setup results. Dead-letter codes name why a record or document was set aside.
 */
export const INDEXER_ERRORS = defineErrors({
  INDEXER_EMPTY_RECORD: {
    description: 'A record on the findings or enriched topic had no value (tombstone); it is dead-lettered, not applied.',
    retriable: false,
  },
  INDEXER_INVALID_JSON: {
    description: 'A record on an input topic is not JSON; dead-lettered with the original bytes.',
    retriable: false,
  },
  INDEXER_INVALID_FINDING: {
    description: 'A record on the findings topic is JSON but not a Finding (schema mismatch); the issues list which fields.',
    retriable: false,
  },
  INDEXER_INVALID_ENRICHED_EVENT: {
    description: 'A record on the enriched topic is JSON but not an EnrichedEvent (schema mismatch); the issues list which fields.',
    retriable: false,
  },
  INDEXER_INVALID_REVOCATION: {
    description: 'A record on the revocations topic is JSON but not a Revocation (schema mismatch); the issues list which fields.',
    retriable: false,
  },
  INDEXER_DOCUMENT_REJECTED: {
    description:
      'Elasticsearch refused the document for good (mapping conflict, field too large, missing index with auto-create disabled); dead-lettered with its reason. Fix the mapping and re-send the original record.',
    retriable: false,
  },
  INDEXER_ELASTICSEARCH_UNAVAILABLE: {
    description: 'Elasticsearch failed a bulk request retriably (connection loss, 429, 5xx); consumption holds and the batch is retried with backoff.',
    retriable: true,
  },
  INDEXER_OUTAGE_EXCEEDED: {
    description:
      'Elasticsearch stayed unavailable for a batch longer than INDEXER_OUTAGE_BUDGET_MS; the consumer stops (nothing committed) and the indexer exits non-zero so a supervisor restarts it.',
    retriable: false,
  },
  INDEXER_BULK_FAILED: {
    description: 'Elasticsearch refused a whole bulk request for a reason retrying will not fix (authentication, authorisation, bad request); the indexer stops without committing.',
    retriable: false,
  },
  INDEXER_SETUP_MISSING: {
    description: 'The calwatch index templates are missing or older than this release; run `calwatch es-setup` (or set INDEXER_REQUIRE_SETUP=false).',
    retriable: false,
  },
  INDEXER_SETUP_NEWER: {
    description: 'The installed calwatch templates are newer than this release; setup refuses to downgrade them.',
    retriable: false,
  },
  INDEXER_SETUP_FAILED: {
    description: 'Installing or upgrading templates, indices or aliases failed; the message names the step and Elasticsearch\'s reason.',
    retriable: false,
  },
  INDEXER_SECURITY_SETUP_FAILED: {
    description:
      'Creating calwatch\'s Elasticsearch roles, users or API keys failed (`calwatch setup --elasticsearch-users`); the message names the step. A 403 means the user running setup lacks manage_security.',
    retriable: false,
  },
  INDEXER_MAPPING_UPGRADE_CONFLICT: {
    description:
      'An existing index cannot take the new mapping in place (a field changed type); the release bumps the index generation so new indices get it, old ones keep theirs.',
    retriable: false,
  },
  INDEXER_KIBANA_IMPORT_FAILED: {
    description: 'Kibana refused or partly failed the saved-objects import; the message lists the objects and errors.',
    retriable: false,
  },
  INDEXER_STOPPED: {
    description: 'The indexer was stopped while a batch waited for Elasticsearch; the batch was not committed and is re-delivered on restart.',
    retriable: true,
  },
});

export type IndexerErrorCode = keyof typeof INDEXER_ERRORS.table;
