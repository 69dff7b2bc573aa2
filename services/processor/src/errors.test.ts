import { describe, expect, it } from 'vitest';
import { CORE_ERRORS } from './core/index';
import { PROCESSOR_ERRORS } from './errors';

describe('PROCESSOR_ERRORS', () => {
  const codes = Object.keys(PROCESSOR_ERRORS.table);

  it('uses the PROCESSOR_ prefix for every code', () => {
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) expect(code).toMatch(/^PROCESSOR_[A-Z0-9_]+$/);
  });

  it('documents every code', () => {
    for (const spec of Object.values(PROCESSOR_ERRORS.table)) expect(spec.description.length).toBeGreaterThan(20);
  });

  it('shares no code with the detection core, so a code means one thing', () => {
    const core = new Set(Object.keys(CORE_ERRORS.table));
    expect(codes.filter((code) => core.has(code))).toEqual([]);
  });

  it('keeps the retriable flag of the table', () => {
    expect(PROCESSOR_ERRORS.create('PROCESSOR_RESTORE_FAILED', 'x').retriable).toBe(true);
    expect(PROCESSOR_ERRORS.create('PROCESSOR_TOPICS_MISSING', 'x').retriable).toBe(false);
  });
});
