import { describe, expect, it } from 'vitest';
import { isCalwatchError } from '@calwatch/model';
import { parseCoreConfig } from './config';
import { CORE_ERRORS } from './errors';
import { isTooLate } from './lateness';

describe('parseCoreConfig', () => {
  it('fills every default and freezes the result', () => {
    const config = parseCoreConfig({});
    expect(config.churn).toEqual({ minHwids: 3, windowDays: 30, quietDays: 21 });
    expect(config.lifecycle.revokeCapRatio).toBe(0.2);
    expect(Object.isFrozen(config.churn)).toBe(true);
  });

  it('keeps defaults beside an override', () => {
    const config = parseCoreConfig({ churn: { minHwids: 4 } });
    expect(config.churn).toEqual({ minHwids: 4, windowDays: 30, quietDays: 21 });
  });

  it('lists every problem in one coded error', () => {
    let caught: unknown;
    try {
      parseCoreConfig({ churn: { minHwids: 1 }, clone: { quietDays: -2 } });
    } catch (error) {
      caught = error;
    }
    expect(isCalwatchError(caught, 'PROCESSOR_CONFIG_INVALID')).toBe(true);
    expect((caught as Error).message).toContain('churn.minHwids');
    expect((caught as Error).message).toContain('clone.quietDays');
  });
});

describe('isTooLate', () => {
  const config = parseCoreConfig({ lateness: { allowedLatenessMs: 60_000 } });
  it('accepts events within the lateness and rejects older ones', () => {
    const mark = '2024-01-01T00:10:00.000Z';
    expect(isTooLate({ eventTime: '2024-01-01T00:09:00.000Z' }, mark, config)).toBe(false);
    expect(isTooLate({ eventTime: '2024-01-01T00:08:59.999Z' }, mark, config)).toBe(true);
    expect(isTooLate({ eventTime: '2020-01-01T00:00:00.000Z' }, null, config)).toBe(false);
  });
});

describe('CORE_ERRORS', () => {
  it('has unique, prefixed and documented codes', () => {
    for (const [code, spec] of Object.entries(CORE_ERRORS.table)) {
      expect(code).toMatch(/^PROCESSOR_[A-Z_]+$/);
      expect(spec.description.length).toBeGreaterThan(20);
    }
  });
});
