import { afterAll, describe, expect, it } from 'vitest';
import { createElasticsearchClient, isRetriableElasticsearchError, toElasticsearchError } from '@calwatch/elasticsearch';
import { getTestServices, uniqueName } from '../harness/services';

describe('Elasticsearch adapter on a real node', () => {
  const client = createElasticsearchClient({ connection: getTestServices().elasticsearch });
  const index = uniqueName('adapter');

  afterAll(async () => {
    await client.indices.delete({ index, ignore_unavailable: true });
    await client.close();
  });

  it('bulk-indexes documents that a query then finds', async () => {
    await client.indices.create({
      index,
      mappings: { dynamic: 'strict', properties: { hwid: { type: 'keyword' }, issued: { type: 'integer' }, '@timestamp': { type: 'date' } } },
    });
    const docs = [
      { hwid: '0201aa', issued: 3, '@timestamp': '2024-06-01T00:00:00.000Z' },
      { hwid: '0201bb', issued: 1, '@timestamp': '2024-06-02T00:00:00.000Z' },
      { hwid: '0201aa', issued: 4, '@timestamp': '2024-06-03T00:00:00.000Z' },
    ];
    const result = await client.helpers.bulk({
      datasource: docs.map((doc, i) => ({ ...doc, id: `doc-${i}` })),
      onDocument: (doc) => {
        const { id, ...source } = doc;
        return [{ index: { _index: index, _id: id } }, source];
      },
      refreshOnCompletion: index,
    });
    expect(result.successful).toBe(3);
    expect(result.failed).toBe(0);

    const found = await client.search<{ hwid: string; issued: number }>({
      index,
      query: { term: { hwid: '0201aa' } },
      aggs: { issued: { sum: { field: 'issued' } } },
    });
    expect(found.hits.hits.map((h) => h._id).sort()).toEqual(['doc-0', 'doc-2']);
    expect((found.aggregations?.issued as { value: number }).value).toBe(7);
  });

  it('classifies a mapping rejection as final', async () => {
    const error = await client.index({ index, id: 'bad', document: { unknown: 'field' } }).catch((e: unknown) => e);
    expect(isRetriableElasticsearchError(error)).toBe(false);
    expect(toElasticsearchError(error, 'index').code).toBe('SHARED_ELASTICSEARCH_REQUEST_FAILED');
  });
});
