import { describe, expect, it } from 'vitest';
import { buildIndexNames, TEMPLATE_VERSION } from './index-names';

describe('buildIndexNames', () => {
  it('puts an event in its month index by UTC date', () => {
    const names = buildIndexNames('calwatch-');
    expect(names.enrichedIndexFor('2026-01-31T23:59:59.999Z')).toBe('calwatch-enriched-v1-2026.01');
    expect(names.enrichedIndexFor('2026-02-01T00:00:00Z')).toBe('calwatch-enriched-v1-2026.02');
    expect(names.enrichedPattern).toBe('calwatch-enriched-v1-*');
    expect(names.enrichedAlias).toBe('calwatch-enriched');
  });

  it('supports daily indices', () => {
    const names = buildIndexNames('t-1.', 'day');
    expect(names.enrichedIndexFor('2026-11-27T08:00:00.000Z')).toBe('t-1.enriched-v1-2026.11.27');
    expect(names.findingsIndex).toBe('t-1.findings-v1');
    expect(names.findingsAlias).toBe('t-1.findings');
  });

  it('matches every concrete index with the template pattern', () => {
    const names = buildIndexNames('calwatch-');
    const pattern = new RegExp(`^${names.enrichedPattern.replace(/[.]/g, '\\.').replace('*', '.*')}$`);
    expect(pattern.test(names.enrichedIndexFor('2030-12-01T00:00:00Z'))).toBe(true);
    expect(TEMPLATE_VERSION).toBeGreaterThanOrEqual(1001);
  });
});
