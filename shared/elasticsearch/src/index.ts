export {
  createElasticsearchClient,
  isRetriableElasticsearchError,
  toElasticsearchError,
  type ElasticsearchClient,
  type ElasticsearchClientOptions,
} from './client';
