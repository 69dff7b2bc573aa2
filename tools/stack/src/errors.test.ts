import { describe, expect, it } from 'vitest';
import { STACK_ERRORS } from './errors';

describe('STACK_ERRORS', () => {
  it('uses the STACK_ prefix and documents every code', () => {
    for (const [code, spec] of Object.entries(STACK_ERRORS.table)) {
      expect(code).toMatch(/^STACK_[A-Z_]+$/);
      expect(spec.description.length).toBeGreaterThan(20);
    }
  });

  it('takes retriable from the table', () => {
    expect(STACK_ERRORS.create('STACK_DOWNLOAD_FAILED', 'x').retriable).toBe(true);
    expect(STACK_ERRORS.create('STACK_PORT_IN_USE', 'x').retriable).toBe(false);
  });
});
