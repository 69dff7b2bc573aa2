import { describe, expect, it } from 'vitest';
import { buildEventId } from './event-id';

describe('buildEventId', () => {
  // Ids are stored downstream (findings timelines, Elasticsearch ids): they must never change.
  it('keeps the digest of its parts, each followed by U+001F, null and undefined as U+0000', () => {
    expect(buildEventId('license.issued', 'LS01', 1, '2024-04-01T00:00:00.000Z', '01')).toBe('3bdff042c1f3d607f93db3be6e850c48');
    expect(buildEventId('x', null, undefined, 'ü€', 0)).toBe('2a7d95cb446118dcb5bd1498cfccbc1e');
  });
});
