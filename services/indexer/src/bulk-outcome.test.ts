import { describe, expect, it } from 'vitest';
import { buildRejectionDraft, classifyItemError, fieldOfItemError } from './bulk-outcome';
import type { IndexAction } from './batch-plan';

describe('classifyItemError', () => {
  it.each([
    [409, 'version_conflict_engine_exception', 'stale'],
    [429, 'es_rejected_execution_exception', 'retry'],
    [503, 'unavailable_shards_exception', 'retry'],
    [500, null, 'retry'],
    [400, 'document_parsing_exception', 'rejected'],
    [400, 'strict_dynamic_mapping_exception', 'rejected'],
    [404, 'index_not_found_exception', 'rejected'],
    [409, 'something_else', 'rejected'],
  ] as const)('%i %s -> %s', (status, type, verdict) => {
    expect(classifyItemError({ status, type, reason: null })).toBe(verdict);
  });
});

describe('fieldOfItemError', () => {
  it('reads the field of parse and strict-mapping errors', () => {
    expect(fieldOfItemError("[1:180] failed to parse field [host.name] of type [long] in document with id 'x'. Preview of field's value: 'PC-1'")).toBe(
      'host.name',
    );
    expect(fieldOfItemError('[1:9] mapping set to strict, dynamic introduction of [extra] within [calwatch] is not allowed')).toBe('calwatch.extra');
    expect(fieldOfItemError('[1:9] mapping set to strict, dynamic introduction of [extra] within [_doc] is not allowed')).toBe('extra');
    expect(fieldOfItemError('no field here')).toBeNull();
    expect(fieldOfItemError(null)).toBeNull();
  });
});

describe('buildRejectionDraft', () => {
  it('keeps the original record and names the reason', () => {
    const record = { topic: 'calwatch.enriched', partition: 2, offset: '41', key: 'k', value: Buffer.from('{}'), headers: {}, timestamp: '0' };
    const action: IndexAction = { index: 'i', id: 'd', document: {}, record };
    const draft = buildRejectionDraft({ action, error: { status: 400, type: 'document_parsing_exception', reason: 'failed to parse field [host.name] of type [long]' } });
    expect(draft.code).toBe('INDEXER_DOCUMENT_REJECTED');
    expect(draft.record).toBe(record);
    expect(draft.field).toBe('host.name');
    expect(draft.reason).toContain('document_parsing_exception');
  });
});
