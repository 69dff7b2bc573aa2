import { describe, expect, it } from 'vitest';
import { CalwatchError, SHARED_ERRORS, defineErrors, isCalwatchError } from './errors';

describe('error codes', () => {
  it('are prefixed, unique and documented', () => {
    const codes = Object.keys(SHARED_ERRORS.table);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [code, spec] of Object.entries(SHARED_ERRORS.table)) {
      expect(code).toMatch(/^SHARED_[A-Z_]+$/);
      expect(spec.description.length).toBeGreaterThan(20);
    }
  });

  it('take retriable from the table, not the call site', () => {
    const errors = defineErrors({ X_SLOW: { description: 'slow thing, try again later', retriable: true } });
    const error = errors.create('X_SLOW', 'boom', { context: { id: 1 }, cause: new Error('inner') });
    expect(error).toBeInstanceOf(CalwatchError);
    expect(error.retriable).toBe(true);
    expect(error.context).toEqual({ id: 1 });
    expect((error.cause as Error).message).toBe('inner');
    expect(isCalwatchError(error, 'X_SLOW')).toBe(true);
    expect(isCalwatchError(error, 'OTHER')).toBe(false);
  });
});
