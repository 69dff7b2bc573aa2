import { SHARED_ERRORS } from '@calwatch/model';
import { describe, expect, it } from 'vitest';
import { NOTIFIER_ERRORS } from './errors';

describe('NOTIFIER_ERRORS', () => {
  const entries = Object.entries(NOTIFIER_ERRORS.table);

  it('codes are prefixed, unique across packages and documented', () => {
    const shared = new Set(Object.keys(SHARED_ERRORS.table));
    for (const [code, spec] of entries) {
      expect(code).toMatch(/^NOTIFIER_[A-Z_]+$/);
      expect(shared.has(code)).toBe(false);
      expect(spec.description.length).toBeGreaterThan(30);
    }
  });

  it('create fills retriable from the table', () => {
    expect(NOTIFIER_ERRORS.create('NOTIFIER_TARGET_RATE_LIMITED', 'x').retriable).toBe(true);
    expect(NOTIFIER_ERRORS.create('NOTIFIER_TARGET_REJECTED', 'x').retriable).toBe(false);
  });
});
