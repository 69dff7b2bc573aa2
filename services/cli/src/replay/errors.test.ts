import { describe, expect, it } from 'vitest';
import { REPLAY_ERRORS } from './errors';

describe('REPLAY_ERRORS', () => {
  it('uses the REPLAY_ prefix and documents every code', () => {
    for (const [code, spec] of Object.entries(REPLAY_ERRORS.table)) {
      expect(code).toMatch(/^REPLAY_[A-Z_]+$/);
      expect(spec.description.length).toBeGreaterThan(30);
    }
  });

  it('takes retriable from the table', () => {
    expect(REPLAY_ERRORS.create('REPLAY_COLLECTOR_UNAVAILABLE', 'x').retriable).toBe(true);
    expect(REPLAY_ERRORS.create('REPLAY_CHECKPOINT_MISMATCH', 'x').retriable).toBe(false);
  });
});
