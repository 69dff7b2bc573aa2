import { describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { IndexerEnvSchema, loadEsSetupConfig, loadIndexerConfig } from './config';

describe('loadIndexerConfig', () => {
  it('has working defaults', () => {
    const config = loadIndexerConfig({});
    expect(config.indexPrefix).toBe('calwatch-');
    expect(config.indexInterval).toBe('month');
    expect(config.bulk.concurrency).toBe(2);
    expect(config.requireSetup).toBe(true);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('lists every problem at once', () => {
    try {
      loadIndexerConfig({ CALWATCH_INDEX_PREFIX: 'Calwatch-', INDEXER_BULK_CONCURRENCY: '0', CALWATCH_INDEX_INTERVAL: 'week' });
      expect.unreachable();
    } catch (error) {
      expect(isCalwatchError(error, 'SHARED_CONFIG_INVALID')).toBe(true);
      const message = (error as Error).message;
      expect(message).toContain('CALWATCH_INDEX_PREFIX');
      expect(message).toContain('INDEXER_BULK_CONCURRENCY');
      expect(message).toContain('CALWATCH_INDEX_INTERVAL');
    }
  });

  it('describes every indexer variable', () => {
    for (const [name, shape] of Object.entries(IndexerEnvSchema.shape)) {
      if (name.startsWith('INDEXER_') || name === 'CALWATCH_INDEX_INTERVAL') expect(shape.description, name).toBeTruthy();
    }
  });

  it('reads the setup layout', () => {
    const config = loadEsSetupConfig({ CALWATCH_INDEX_REPLICAS: '1', CALWATCH_INDEX_SHARDS: '2' });
    expect(config.replicas).toBe(1);
    expect(config.shards).toBe(2);
  });
});
