import { describe, expect, it } from 'vitest';
import { INDEXER_ERRORS } from './errors';

describe('INDEXER_ERRORS', () => {
  const codes = Object.keys(INDEXER_ERRORS.table);

  it('uses the INDEXER_ prefix for every code', () => {
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) expect(code).toMatch(/^INDEXER_[A-Z0-9_]+$/);
  });

  it('documents every code', () => {
    for (const spec of Object.values(INDEXER_ERRORS.table)) expect(spec.description.length).toBeGreaterThan(20);
  });

  it('keeps the retriable flag of the table', () => {
    expect(INDEXER_ERRORS.create('INDEXER_ELASTICSEARCH_UNAVAILABLE', 'x').retriable).toBe(true);
    expect(INDEXER_ERRORS.create('INDEXER_DOCUMENT_REJECTED', 'x').retriable).toBe(false);
  });
});
